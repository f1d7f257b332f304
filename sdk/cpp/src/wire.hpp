// wire.hpp: the wire protocol of docs/protocol.md as the C++ SDK speaks it:
// op and event names, the API's codes and limits, the checks a request
// passes before it is sent, the failure callback of each op, and the call of
// the callback an event names.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "IAgoraAPI.h"

namespace switchboard {

using json = nlohmann::json;

// The API's codes (AGORA_E_CODE) the SDK produces itself.
enum Code : int {
    LogoutOther = 100,
    LogoutUser = 101,
    LogoutNet = 102,
    LogoutKicked = 103,
    LogoutTokenExpired = 105,
    LoginNet = 201,
    LoginCancel = 203,
    GeneralFailed = 1001,
    NotLoggedIn = 1003,
    WrongParam = 1004,
    LargeParam = 1005,
};

// Why a request failed locally; failureEvent turns it into each op's code.
enum class Fail { WrongParam, TooLarge, NotLoggedIn, QueueFull, SessionEnded, Timeout };

// Limits of the API (protocol/limits.go).
constexpr size_t kMaxNameChars = 128;
constexpr size_t kMaxAppIDBytes = 128;
constexpr size_t kMaxMsgBytes = 8192;
constexpr size_t kMaxExtraBytes = 8192;
constexpr size_t kMaxUserAttrBytes = 1024;
constexpr size_t kMaxChanAttrBytes = 8096;
constexpr size_t kMaxReqBytes = 8192;
constexpr size_t kMaxFrameBytes = 65536;
constexpr uint64_t kAckEvery = 64;

// Close codes of protocol/close.go after which a session is never resumed.
constexpr int kCloseKicked = 4001;
constexpr int kCloseTokenExpired = 4002;

constexpr int kSdkVersion = 1010400000; // 1.4.0.0, encoded as the API does

// A (pointer, size) parameter of the API turned into a string. It fails when
// the pointer is null with a non-zero size, or when a NUL comes before size
// bytes (the size does not match the string). Reads at most size bytes.
bool takeString(char const* p, size_t n, std::string& out);

// validName is the API's rule for names (accounts, channels, attribute and
// invoke names, message and call IDs): 1 to 128 code points of valid UTF-8,
// no space or control character. NFKC is left to the edge, which answers
// 1004 through the same callback.
bool validName(std::string const& s);
bool validAppID(std::string const& s);

// checkRequest applies the API's rules for req's fields before it is sent.
// It returns false and sets why when one is broken.
bool checkRequest(json const& req, Fail& why);

// encode returns the frame of req; false when it is not valid UTF-8 (1004)
// or over the edge's frame limit (1005).
bool encode(json const& req, std::string& frame, Fail& why);

// failureEvent is the event that tells the app request req failed: the op's
// own failure callback where the API has one, onError otherwise.
json failureEvent(json const& req, Fail why, std::string const& desc);

// deliver calls the callback that ev names. Unknown events are dropped: a
// newer edge may send callbacks this SDK predates.
void deliver(agora_sdk_win::ICallBack* cb, json const& ev);

// Helpers reading a field of a frame, with a default when absent or of
// another type, so that a strange frame never throws.
std::string str(json const& j, char const* key);
int64_t num(json const& j, char const* key);
bool flag(json const& j, char const* key);

} // namespace switchboard
