// header_syntax.cpp: compiled alone, with -fsyntax-only, by GCC and by Clang
// with -Wall -Wextra -Wpedantic -Werror (cpp_test.go): the header needs
// nothing but the standard library and warns on neither compiler.
#include "IAgoraAPI.h"

struct OnlyLogin : agora_sdk_win::ICallBack {
    void onLoginSuccess(uint32_t uid, int fd) override {
        (void)uid;
        (void)fd;
    }
};

int main() {
    OnlyLogin cb;
    agora_sdk_win::IAgoraAPI* api = createAgoraSDKInstanceWin("app", 3);
    api->callbackSet(&cb);
    api->destroy();
    return 0;
}
