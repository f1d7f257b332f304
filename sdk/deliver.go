package sdk

import "github.com/switchboard-io/switchboard/protocol"

// deliver calls the callback that ev names. It runs on the dispatcher
// goroutine only. Events the SDK does not know are dropped: a newer edge may
// send callbacks this SDK predates.
func deliver(cb Callback, ev *protocol.Event) {
	switch ev.Ev {
	case protocol.EvLoginSuccess:
		cb.OnLoginSuccess(ev.UID, ev.FD)
	case protocol.EvLoginFailed:
		cb.OnLoginFailed(ev.Ecode)
	case protocol.EvLogout:
		cb.OnLogout(ev.Ecode)
	case protocol.EvReconnected:
		cb.OnReconnected(ev.FD)
	case protocol.EvQueryUserStatusResult:
		cb.OnQueryUserStatusResult(ev.Name, ev.Status)
	case protocol.EvError:
		cb.OnError(ev.Name, ev.Ecode, ev.Desc)
	case protocol.EvLog:
		cb.OnLog(ev.Msg)
	case protocol.EvInvokeRet:
		cb.OnInvokeRet(ev.CallID, ev.Err, ev.Resp)
	case protocol.EvUserAttrResult:
		cb.OnUserAttrResult(ev.Account, ev.Name, ev.Value)
	case protocol.EvUserAttrAllResult:
		cb.OnUserAttrAllResult(ev.Account, ev.Value)
	case protocol.EvMessageSendSuccess:
		cb.OnMessageSendSuccess(ev.MessageID)
	case protocol.EvMessageSendError:
		cb.OnMessageSendError(ev.MessageID, ev.Ecode)
	case protocol.EvMessageInstantReceive:
		cb.OnMessageInstantReceive(ev.Account, ev.UID, ev.Msg)
	case protocol.EvMessageChannelReceive:
		cb.OnMessageChannelReceive(ev.ChannelID, ev.Account, ev.UID, ev.Msg)
	case protocol.EvChannelJoined:
		cb.OnChannelJoined(ev.ChannelID)
	case protocol.EvChannelJoinFailed:
		cb.OnChannelJoinFailed(ev.ChannelID, ev.Ecode)
	case protocol.EvChannelLeaved:
		cb.OnChannelLeaved(ev.ChannelID, ev.Ecode)
	case protocol.EvChannelUserJoined:
		if cu, ok := cb.(ChannelUserCallback); ok {
			cu.OnChannelUserJoinedIn(ev.ChannelID, ev.Account, ev.UID)
		} else {
			cb.OnChannelUserJoined(ev.Account, ev.UID)
		}
	case protocol.EvChannelUserLeaved:
		if cu, ok := cb.(ChannelUserCallback); ok {
			cu.OnChannelUserLeavedIn(ev.ChannelID, ev.Account, ev.UID)
		} else {
			cb.OnChannelUserLeaved(ev.Account, ev.UID)
		}
	case protocol.EvChannelUserList:
		n, accounts, uids := userList(ev)
		if cu, ok := cb.(ChannelUserCallback); ok {
			cu.OnChannelUserListIn(ev.ChannelID, n, accounts, uids)
		} else {
			cb.OnChannelUserList(n, accounts, uids)
		}
	case protocol.EvChannelQueryUserNumResult:
		cb.OnChannelQueryUserNumResult(ev.ChannelID, ev.Ecode, ev.Num)
	case protocol.EvChannelQueryUserIsIn:
		cb.OnChannelQueryUserIsIn(ev.ChannelID, ev.Account, ev.IsIn)
	case protocol.EvChannelAttrUpdated:
		cb.OnChannelAttrUpdated(ev.ChannelID, ev.Name, ev.Value, ev.Type)
	case protocol.EvInviteReceived:
		cb.OnInviteReceived(ev.ChannelID, ev.Account, ev.UID, ev.Extra)
	case protocol.EvInviteReceivedByPeer:
		cb.OnInviteReceivedByPeer(ev.ChannelID, ev.Account, ev.UID)
	case protocol.EvInviteAcceptedByPeer:
		cb.OnInviteAcceptedByPeer(ev.ChannelID, ev.Account, ev.UID, ev.Extra)
	case protocol.EvInviteRefusedByPeer:
		cb.OnInviteRefusedByPeer(ev.ChannelID, ev.Account, ev.UID, ev.Extra)
	case protocol.EvInviteFailed:
		cb.OnInviteFailed(ev.ChannelID, ev.Account, ev.UID, ev.Ecode, ev.Extra)
	case protocol.EvInviteEndByPeer:
		cb.OnInviteEndByPeer(ev.ChannelID, ev.Account, ev.UID, ev.Extra)
	case protocol.EvInviteEndByMyself:
		cb.OnInviteEndByMyself(ev.ChannelID, ev.Account, ev.UID)
	case protocol.EvInviteMsg:
		cb.OnInviteMsg(ev.ChannelID, ev.Account, int(ev.UID), ev.MsgType, ev.MsgData, ev.Extra)
	}
}

// userList returns onChannelUserList's parameters with uids as long as
// accounts: the API's two arrays are parallel, and a caller indexing uids by
// an account's position must not panic because the edge left zeros out.
func userList(ev *protocol.Event) (int, []string, []uint32) {
	n := ev.N
	if n == 0 {
		n = len(ev.Accounts)
	}
	uids := ev.Uids
	if len(uids) < len(ev.Accounts) {
		uids = make([]uint32, len(ev.Accounts))
		copy(uids, ev.Uids)
	}
	return n, ev.Accounts, uids
}
