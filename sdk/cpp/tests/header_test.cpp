// The header compiles with -Wall -Wextra -Wpedantic -Werror (CMakeLists.txt
// sets them for this file), and an app overrides only what it needs.
#include "IAgoraAPI.h"

#include <gtest/gtest.h>

namespace {
struct OnlyLogin : agora_sdk_win::ICallBack {
    void onLoginSuccess(uint32_t uid, int fd) override { (void)uid; (void)fd; }
};
} // namespace

TEST(Header, CallbacksHaveEmptyDefaults) {
    OnlyLogin cb;
    agora_sdk_win::ICallBack* base = &cb;
    base->onLogout(101);
    base->onChannelUserList(0, nullptr, nullptr);
    SUCCEED();
}
