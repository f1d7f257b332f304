// IAgoraAPI.h: the Agora Signaling API v1.4 C++ interface (IAgoraAPI,
// ICallBack, getAgoraSDKInstanceWin, createAgoraSDKInstanceWin), served by a
// Switchboard edge. An app written against the API page compiles against this
// header unchanged and links libswitchboard-sig.
//
// Every method returns at once; its outcome arrives as callbacks, all of one
// instance on one thread of the library's own, in order. Calling the API
// from a callback is allowed, destroy() included.
//
// Where the API page writes `String` (onInvokeRet, onInviteMsg) this header
// uses `char const *` + `size_t`, as everywhere else in the API. The one
// addition is IAgoraAPI::setServerUrl (see docs/sdk-cpp.md).
#ifndef SWITCHBOARD_IAGORAAPI_H
#define SWITCHBOARD_IAGORAAPI_H

#include <cstddef>
#include <cstdint>

#if defined(_WIN32) && defined(SWITCHBOARD_SIG_SHARED)
#  if defined(SWITCHBOARD_SIG_BUILDING)
#    define SWITCHBOARD_SIG_API __declspec(dllexport)
#  else
#    define SWITCHBOARD_SIG_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SWITCHBOARD_SIG_API __attribute__((visibility("default")))
#else
#  define SWITCHBOARD_SIG_API
#endif

namespace agora_sdk_win {

// The callbacks. Every one has an empty default body: override what you need.
// Strings are valid only during the call; copy what you keep.
class ICallBack {
public:
    virtual ~ICallBack() {}

    virtual void onReconnecting(uint32_t /*nretry*/) {}
    virtual void onReconnected(int /*fd*/) {}
    virtual void onLoginSuccess(uint32_t /*uid*/, int /*fd*/) {}
    virtual void onLogout(int /*ecode*/) {}
    virtual void onLoginFailed(int /*ecode*/) {}
    virtual void onChannelJoined(char const * /*channelID*/, size_t /*channelID_size*/) {}
    virtual void onChannelJoinFailed(char const * /*channelID*/, size_t /*channelID_size*/, int /*ecode*/) {}
    virtual void onChannelLeaved(char const * /*channelID*/, size_t /*channelID_size*/, int /*ecode*/) {}
    virtual void onChannelUserJoined(char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/) {}
    virtual void onChannelUserLeaved(char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/) {}
    // accounts and uids hold n entries each and stay valid until it returns.
    virtual void onChannelUserList(int /*n*/, char ** /*accounts*/, uint32_t * /*uids*/) {}
    virtual void onChannelQueryUserNumResult(char const * /*channelID*/, size_t /*channelID_size*/, int /*ecode*/, int /*num*/) {}
    virtual void onChannelQueryUserIsIn(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, int /*isIn*/) {}
    virtual void onChannelAttrUpdated(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*name*/, size_t /*name_size*/, char const * /*value*/, size_t /*value_size*/, char const * /*type*/, size_t /*type_size*/) {}
    virtual void onInviteReceived(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, char const * /*extra*/, size_t /*extra_size*/) {}
    virtual void onInviteReceivedByPeer(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/) {}
    virtual void onInviteAcceptedByPeer(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, char const * /*extra*/, size_t /*extra_size*/) {}
    virtual void onInviteRefusedByPeer(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, char const * /*extra*/, size_t /*extra_size*/) {}
    virtual void onInviteFailed(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, int /*ecode*/, char const * /*extra*/, size_t /*extra_size*/) {}
    virtual void onInviteEndByPeer(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, char const * /*extra*/, size_t /*extra_size*/) {}
    virtual void onInviteEndByMyself(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/) {}
    // The API page types msgType, msgData and extra as String. Never called:
    // it needs a SIP gateway.
    virtual void onInviteMsg(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, int /*uid*/, char const * /*msgType*/, size_t /*msgType_size*/, char const * /*msgData*/, size_t /*msgData_size*/, char const * /*extra*/, size_t /*extra_size*/) {}
    virtual void onMessageSendError(char const * /*messageID*/, size_t /*messageID_size*/, int /*ecode*/) {}
    virtual void onMessageSendSuccess(char const * /*messageID*/, size_t /*messageID_size*/) {}
    virtual void onMessageInstantReceive(char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, char const * /*msg*/, size_t /*msg_size*/) {}
    virtual void onMessageChannelReceive(char const * /*channelID*/, size_t /*channelID_size*/, char const * /*account*/, size_t /*account_size*/, uint32_t /*uid*/, char const * /*msg*/, size_t /*msg_size*/) {}
    virtual void onLog(char const * /*txt*/, size_t /*txt_size*/) {}
    // The API page types callID, err and resp as String. err is "" on
    // success, else the code in decimal ("1004"), resp then {"desc": …}.
    virtual void onInvokeRet(char const * /*callID*/, size_t /*callID_size*/, char const * /*err*/, size_t /*err_size*/, char const * /*resp*/, size_t /*resp_size*/) {}
    virtual void onError(char const * /*name*/, size_t /*name_size*/, int /*ecode*/, char const * /*desc*/, size_t /*desc_size*/) {}
    virtual void onQueryUserStatusResult(char const * /*name*/, size_t /*name_size*/, char const * /*status*/, size_t /*status_size*/) {}
    virtual void onUserAttrResult(char const * /*account*/, size_t /*account_size*/, char const * /*name*/, size_t /*name_size*/, char const * /*value*/, size_t /*value_size*/) {}
    virtual void onUserAttrAllResult(char const * /*account*/, size_t /*account_size*/, char const * /*value*/, size_t /*value_size*/) {}
};

// One instance of the SDK. Release it with destroy(), never delete.
class IAgoraAPI {
public:
    // Lifecycle
    virtual void destroy() = 0;
    virtual void callbackSet(ICallBack* handler) = 0;
    virtual ICallBack* callbackGet() = 0;

    // Login
    virtual void login(char const * appId, size_t appId_size, char const * account, size_t account_size, char const * token, size_t token_size, uint32_t uid, char const * deviceID, size_t deviceID_size) = 0;
    virtual void login2(char const * appId, size_t appId_size, char const * account, size_t account_size, char const * token, size_t token_size, uint32_t uid, char const * deviceID, size_t deviceID_size, int retry_time_in_s, int retry_count) = 0;
    virtual void logout() = 0;
    virtual void queryUserStatus(char const * account, size_t account_size) = 0;
    virtual void setAttr(char const * name, size_t name_size, char const * value, size_t value_size) = 0;
    virtual void getAttr(char const * name, size_t name_size) = 0;
    virtual void getAttrAll() = 0;
    virtual void getUserAttr(char const * account, size_t account_size, char const * name, size_t name_size) = 0;
    virtual void getUserAttrAll(char const * account, size_t account_size) = 0;
    virtual void invoke(char const * name, size_t name_size, char const * req, size_t req_size, char const * callID, size_t callID_size) = 0;
    virtual void messageInstantSend(char const * account, size_t account_size, uint32_t uid, char const * msg, size_t msg_size, char const * msgID, size_t msgID_size) = 0;

    // Channel
    virtual void channelJoin(char const * channelID, size_t channelID_size) = 0;
    virtual void channelLeave(char const * channelID, size_t channelID_size) = 0;
    virtual void channelQueryUserNum(char const * channelID, size_t channelID_size) = 0;
    virtual void channelQueryUserIsIn(char const * channelID, size_t channelID_size, char const * account, size_t account_size) = 0;
    virtual void channelSetAttr(char const * channelID, size_t channelID_size, char const * name, size_t name_size, char const * value, size_t value_size) = 0;
    virtual void channelDelAttr(char const * channelID, size_t channelID_size, char const * name, size_t name_size) = 0;
    virtual void channelClearAttr(char const * channelID, size_t channelID_size) = 0;
    // The API page prints messageInstantSend's prototype here by mistake;
    // its parameters are channelID, msg and msgID.
    virtual void messageChannelSend(char const * channelID, size_t channelID_size, char const * msg, size_t msg_size, char const * msgID, size_t msgID_size) = 0;

    // Calling
    virtual void channelInviteUser(char const * channelID, size_t channelID_size, char const * account, size_t account_size, uint32_t uid = 0) = 0;
    virtual void channelInviteUser2(char const * channelID, size_t channelID_size, char const * account, size_t account_size, char const * extra, size_t extra_size) = 0;
    virtual void channelInviteDTMF(char const * channelID, size_t channelID_size, char const * phoneNum, size_t phoneNum_size, char const * dtmf, size_t dtmf_size) = 0;
    virtual void channelInviteAccept(char const * channelID, size_t channelID_size, char const * account, size_t account_size, uint32_t uid, char const * extra, size_t extra_size) = 0;
    virtual void channelInviteRefuse(char const * channelID, size_t channelID_size, char const * account, size_t account_size, uint32_t uid, char const * extra, size_t extra_size) = 0;
    virtual void channelInviteEnd(char const * channelID, size_t channelID_size, char const * account, size_t account_size, uint32_t uid) = 0;

    // Miscellaneous
    virtual int getStatus() = 0;
    virtual int getSdkVersion() = 0;
    virtual void messageChannelSendForce(char const * channelID, size_t channelID_size, char const * msg, size_t msg_size, char const * msgID, size_t msgID_size) = 0;

    // Obsolete interfaces
    virtual void messageDTMFSend(uint32_t uid, char const * msg, size_t msg_size, char const * msgID, size_t msgID_size) = 0;
    virtual void channelInvitePhone(char const * channelID, size_t channelID_size, char const * phoneNum, size_t phoneNum_size, uint32_t uid = 0) = 0;
    virtual void channelInvitePhone2(char const * channelID, size_t channelID_size, char const * phoneNum, size_t phoneNum_size, char const * sourcesNum, size_t sourcesNum_size) = 0;
    virtual void channelInvitePhone3(char const * channelID, size_t channelID_size, char const * phoneNum, size_t phoneNum_size, char const * sourcesNum, size_t sourcesNum_size, char const * extra, size_t extra_size) = 0;
    virtual bool isOnline() = 0;

    // Switchboard's one addition, outside the API's names: the edges to
    // connect to, comma-separated ("ws://host:7400/ws,wss://…"). Used from
    // the next connection on. Without it: $SWITCHBOARD_URL, else
    // ws://127.0.0.1:7400/ws.
    virtual void setServerUrl(char const * url, size_t url_size) = 0;

protected:
    virtual ~IAgoraAPI() {}
};

} // namespace agora_sdk_win

// The process's shared instance: later calls return it and ignore appId,
// until it is destroyed.
SWITCHBOARD_SIG_API agora_sdk_win::IAgoraAPI* getAgoraSDKInstanceWin(char const * appId, size_t appId_size);

// A new, independent instance on every call.
SWITCHBOARD_SIG_API agora_sdk_win::IAgoraAPI* createAgoraSDKInstanceWin(char const * appId, size_t appId_size);

#endif
