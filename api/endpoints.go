package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/token"
)

// routes is every endpoint. The message routes name the client operation
// whose codes their errors carry (400 a message not sent, 401 not
// acknowledged, as onMessageSendError says); the others carry the general
// codes (1004, 1005, 1001).
func (s *Server) routes() []route {
	return []route{
		{"POST", Prefix + "/users/{account}/messages", protocol.OpMessageInstantSend, s.sendPeer},
		{"POST", Prefix + "/channels/{channel}/messages", protocol.OpMessageChannelSendForce, s.sendChannel},
		{"POST", Prefix + "/online", "", s.online},
		{"GET", Prefix + "/channels/{channel}/members", "", s.members},
		{"GET", Prefix + "/channels/{channel}/attrs", "", s.channelAttrs},
		{"PUT", Prefix + "/channels/{channel}/attrs/{name}", "", s.setChannelAttr},
		{"DELETE", Prefix + "/channels/{channel}/attrs/{name}", "", s.delChannelAttr},
		{"DELETE", Prefix + "/channels/{channel}/attrs", "", s.clearChannelAttrs},
		{"GET", Prefix + "/users/{account}/attrs", "", s.userAttrs},
		{"PUT", Prefix + "/users/{account}/attrs/{name}", "", s.setUserAttr},
		{"DELETE", Prefix + "/users/{account}/attrs/{name}", "", s.delUserAttr},
		{"POST", Prefix + "/users/{account}/kick", "", s.kick},
		{"POST", Prefix + "/users/{account}/token", "", s.token},
		{"POST", Prefix + "/webhooks/test", "", s.webhookTest},
	}
}

// decode reads the body strictly into v: one JSON object, no unknown
// field, nothing after it. An empty body is {} when empty is allowed.
func decode(rq *request, v any, emptyOK bool) error {
	data, err := io.ReadAll(rq.http.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return protocol.Errorf(protocol.KindInvalid, "the request body could not be read")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if emptyOK {
			return nil
		}
		return protocol.Errorf(protocol.KindInvalid, "the request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return protocol.Errorf(protocol.KindInvalid, "malformed JSON body: %s", describeJSON(err))
	}
	if dec.More() {
		return protocol.Errorf(protocol.KindInvalid, "malformed JSON body: data after the object")
	}
	return nil
}

// describeJSON says what is wrong with a body without echoing it.
func describeJSON(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type)
		}
		return "the body must be a JSON object"
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok && len(name) <= 66 {
		return "unknown field " + name
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON ends early"
	}
	return "not a JSON object of the documented shape"
}

// checkName refuses a name that breaks the API's rules, naming the field.
func checkName(field, v string) error {
	if !protocol.ValidName(v) {
		return protocol.Errorf(protocol.KindInvalid, "%s must be 1 to 128 visible characters without spaces, in NFKC", field)
	}
	return nil
}

// sender is the account a message goes out as, checked.
func sender(from string) (string, error) {
	if from == "" {
		return SystemAccount, nil
	}
	return from, checkName("from", from)
}

// checkMessage checks a message body: its sender, and its size (8 KB).
func (s *Server) checkMessage(rq *request) (from, msg string, err error) {
	var body MessageRequest
	if err := decode(rq, &body, false); err != nil {
		return "", "", err
	}
	if from, err = sender(body.From); err != nil {
		return "", "", err
	}
	if len(body.Msg) > protocol.MaxMsgBytes {
		return "", "", protocol.Errorf(protocol.KindTooLarge, "msg is over %d bytes", protocol.MaxMsgBytes)
	}
	if !s.userRate.allow(rq.app.ID+"\x00"+from, s.cfg.UserRate) {
		return "", "", protocol.Errorf(protocol.KindRateLimited, "%s is over %d messages per second", from, s.cfg.UserRate)
	}
	return from, body.Msg, nil
}

func (s *Server) sendPeer(ctx context.Context, rq *request) (any, error) {
	to := rq.path("account")
	if err := checkName("account", to); err != nil {
		return nil, err
	}
	from, msg, err := s.checkMessage(rq)
	if err != nil {
		return nil, err
	}
	err = s.cfg.Edge.SendPeer(ctx, rq.app.ID, from, to, msg)
	if e := (*protocol.Error)(nil); errors.As(err, &e) && e.Kind == protocol.KindNotFound {
		return MessageResponse{Result: ResultOffline}, nil
	}
	if errors.Is(err, protocol.ErrTimeout) {
		return nil, protocol.Errorf(protocol.KindTimeout, "the receiving client did not acknowledge the message in time; it may or may not have it")
	}
	if err != nil {
		return nil, err
	}
	return MessageResponse{Result: ResultDelivered}, nil
}

func (s *Server) sendChannel(ctx context.Context, rq *request) (any, error) {
	channel := rq.path("channel")
	if err := checkName("channel", channel); err != nil {
		return nil, err
	}
	from, msg, err := s.checkMessage(rq)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Edge.SendChannel(ctx, rq.app.ID, from, channel, msg); err != nil {
		return nil, err
	}
	return MessageResponse{Result: ResultSent}, nil
}

// call asks the workers, as SystemAccount unless account is given.
func (s *Server) call(ctx context.Context, rq *request, account string, req protocol.Request, args *protocol.APIArgs) (*protocol.Reply, error) {
	if account == "" {
		account = SystemAccount
	}
	return s.cfg.Edge.CallWorkers(ctx, &protocol.Call{App: rq.app.ID, Account: account, Req: req, API: args})
}

func (s *Server) online(ctx context.Context, rq *request) (any, error) {
	var body OnlineRequest
	if err := decode(rq, &body, false); err != nil {
		return nil, err
	}
	if len(body.Accounts) == 0 || len(body.Accounts) > protocol.MaxAPIOnline {
		return nil, protocol.Errorf(protocol.KindInvalid, "accounts must name 1 to %d accounts, not %d", protocol.MaxAPIOnline, len(body.Accounts))
	}
	for i, a := range body.Accounts {
		if err := checkName(fmt.Sprintf("accounts[%d]", i), a); err != nil {
			return nil, err
		}
	}
	reply, err := s.call(ctx, rq, "", protocol.Request{Op: protocol.APIOnline}, &protocol.APIArgs{Accounts: body.Accounts})
	if err != nil {
		return nil, err
	}
	out := OnlineResponse{Accounts: make([]AccountStatus, 0, len(reply.Events))}
	for _, ev := range reply.Events {
		out.Accounts = append(out.Accounts, AccountStatus{Account: ev.Name, Online: ev.Status == "1"})
	}
	return out, nil
}

// intParam reads a whole-number query parameter, def when absent.
func intParam(rq *request, name string, def int) (int, error) {
	v := rq.http.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, protocol.Errorf(protocol.KindInvalid, "%s must be a whole number", name)
	}
	return n, nil
}

func (s *Server) members(ctx context.Context, rq *request) (any, error) {
	channel := rq.path("channel")
	if err := checkName("channel", channel); err != nil {
		return nil, err
	}
	offset, err := intParam(rq, "offset", 0)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(rq, "limit", DefaultPage)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > protocol.MaxAPIPage {
		return nil, protocol.Errorf(protocol.KindInvalid, "limit must be 1 to %d, not %d", protocol.MaxAPIPage, limit)
	}
	if offset < 0 {
		return nil, protocol.Errorf(protocol.KindInvalid, "offset must be 0 or more")
	}
	reply, err := s.call(ctx, rq, "", protocol.Request{Op: protocol.APIMembers, ChannelID: channel},
		&protocol.APIArgs{Offset: offset, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := MembersResponse{Channel: channel, Offset: offset, Members: []string{}}
	if len(reply.Events) == 1 {
		out.Count = reply.Events[0].N
		out.Members = append(out.Members, reply.Events[0].Accounts...)
	}
	return out, nil
}

func (s *Server) channelAttrs(ctx context.Context, rq *request) (any, error) {
	channel := rq.path("channel")
	if err := checkName("channel", channel); err != nil {
		return nil, err
	}
	reply, err := s.call(ctx, rq, "", protocol.Request{Op: protocol.APIChannelAttrs, ChannelID: channel}, nil)
	if err != nil {
		return nil, err
	}
	out := AttrsResponse{Channel: channel, Attrs: map[string]string{}}
	for _, ev := range reply.Events {
		out.Attrs[ev.Name] = ev.Value
	}
	return out, nil
}

// channelAttrPath checks the channel and attribute names of the path.
func channelAttrPath(rq *request) (channel, name string, err error) {
	channel, name = rq.path("channel"), rq.path("name")
	if err := checkName("channel", channel); err != nil {
		return "", "", err
	}
	return channel, name, checkName("name", name)
}

func (s *Server) setChannelAttr(ctx context.Context, rq *request) (any, error) {
	channel, name, err := channelAttrPath(rq)
	if err != nil {
		return nil, err
	}
	var body AttrRequest
	if err := decode(rq, &body, false); err != nil {
		return nil, err
	}
	if len(body.Value) > protocol.MaxChanAttrBytes {
		return nil, protocol.Errorf(protocol.KindTooLarge, "value is over %d bytes", protocol.MaxChanAttrBytes)
	}
	_, err = s.call(ctx, rq, "", protocol.Request{Op: protocol.APIChannelSetAttr, ChannelID: channel, Name: name, Value: body.Value}, nil)
	if err != nil {
		return nil, err
	}
	return AttrResponse{Channel: channel, Name: name, Value: &body.Value}, nil
}

func (s *Server) delChannelAttr(ctx context.Context, rq *request) (any, error) {
	channel, name, err := channelAttrPath(rq)
	if err != nil {
		return nil, err
	}
	_, err = s.call(ctx, rq, "", protocol.Request{Op: protocol.APIChannelDelAttr, ChannelID: channel, Name: name}, nil)
	if err != nil {
		return nil, err
	}
	return AttrResponse{Channel: channel, Name: name}, nil
}

func (s *Server) clearChannelAttrs(ctx context.Context, rq *request) (any, error) {
	channel := rq.path("channel")
	if err := checkName("channel", channel); err != nil {
		return nil, err
	}
	_, err := s.call(ctx, rq, "", protocol.Request{Op: protocol.APIChannelClearAttr, ChannelID: channel}, nil)
	if err != nil {
		return nil, err
	}
	return AttrResponse{Channel: channel}, nil
}

func (s *Server) userAttrs(ctx context.Context, rq *request) (any, error) {
	account := rq.path("account")
	if err := checkName("account", account); err != nil {
		return nil, err
	}
	reply, err := s.call(ctx, rq, "", protocol.Request{Op: protocol.OpGetUserAttrAll, Account: account}, nil)
	if err != nil {
		return nil, err
	}
	out := AttrsResponse{Account: account, Attrs: map[string]string{}}
	if len(reply.Events) == 1 && reply.Events[0].Value != "" {
		if err := json.Unmarshal([]byte(reply.Events[0].Value), &out.Attrs); err != nil {
			return nil, fmt.Errorf("user attributes from the workers: %w", err)
		}
	}
	return out, nil
}

// userAttrPath checks the account and attribute names of the path.
func userAttrPath(rq *request) (account, name string, err error) {
	account, name = rq.path("account"), rq.path("name")
	if err := checkName("account", account); err != nil {
		return "", "", err
	}
	return account, name, checkName("name", name)
}

// setUserAttr writes an attribute as the account itself would (setAttr).
func (s *Server) setUserAttr(ctx context.Context, rq *request) (any, error) {
	account, name, err := userAttrPath(rq)
	if err != nil {
		return nil, err
	}
	var body AttrRequest
	if err := decode(rq, &body, false); err != nil {
		return nil, err
	}
	if body.Value == "" {
		return nil, protocol.Errorf(protocol.KindInvalid, "value must not be empty; DELETE the attribute instead")
	}
	if len(body.Value) > protocol.MaxUserAttrBytes {
		return nil, protocol.Errorf(protocol.KindTooLarge, "value is over %d bytes", protocol.MaxUserAttrBytes)
	}
	if _, err := s.call(ctx, rq, account, protocol.Request{Op: protocol.OpSetAttr, Name: name, Value: body.Value}, nil); err != nil {
		return nil, err
	}
	return AttrResponse{Account: account, Name: name, Value: &body.Value}, nil
}

// delUserAttr deletes an attribute: setAttr with an empty value.
func (s *Server) delUserAttr(ctx context.Context, rq *request) (any, error) {
	account, name, err := userAttrPath(rq)
	if err != nil {
		return nil, err
	}
	if _, err := s.call(ctx, rq, account, protocol.Request{Op: protocol.OpSetAttr, Name: name}, nil); err != nil {
		return nil, err
	}
	return AttrResponse{Account: account, Name: name}, nil
}

func (s *Server) kick(ctx context.Context, rq *request) (any, error) {
	account := rq.path("account")
	if err := checkName("account", account); err != nil {
		return nil, err
	}
	var body KickRequest
	if err := decode(rq, &body, true); err != nil {
		return nil, err
	}
	if len(body.Reason) > protocol.MaxKickReason {
		return nil, protocol.Errorf(protocol.KindTooLarge, "reason is over %d bytes", protocol.MaxKickReason)
	}
	_, err := s.call(ctx, rq, "", protocol.Request{Op: protocol.APIKick, Account: account}, &protocol.APIArgs{Reason: body.Reason})
	if e := (*protocol.Error)(nil); errors.As(err, &e) && e.Kind == protocol.KindNotFound {
		return nil, protocol.Coded(protocol.KindNotFound, protocol.LogoutAlready, e.Msg)
	}
	if err != nil {
		return nil, err
	}
	return MessageResponse{Result: ResultKicked}, nil
}

// DefaultTokenTTL is how long an issued token lasts when the request says
// nothing.
const DefaultTokenTTL = 86400

// maxTokenTTL bounds a token's life: ten years.
const maxTokenTTL = 10 * 365 * 86400

func (s *Server) token(_ context.Context, rq *request) (any, error) {
	account := rq.path("account")
	if err := checkName("account", account); err != nil {
		return nil, err
	}
	if account == SystemAccount {
		return nil, protocol.Errorf(protocol.KindInvalid, "%s is the API's own account; no client may log in as it", SystemAccount)
	}
	var body TokenRequest
	if err := decode(rq, &body, true); err != nil {
		return nil, err
	}
	if rq.app.Certificate == "" {
		return nil, protocol.Coded(protocol.KindConflict, protocol.GeneralFailed, "the app has no certificate, so it has no tokens to issue (it accepts only _no_need_token)")
	}
	expires := token.NeverExpires
	switch {
	case body.Expires != 0 && body.TTL != nil:
		return nil, protocol.Errorf(protocol.KindInvalid, "give ttl or expires, not both")
	case body.Expires < 0:
		return nil, protocol.Errorf(protocol.KindInvalid, "expires must be a Unix time in seconds")
	case body.Expires > 0 && body.Expires <= s.cfg.Now().Unix():
		return nil, protocol.Errorf(protocol.KindInvalid, "expires is in the past")
	case body.Expires > 0:
		expires = body.Expires
	case body.TTL == nil:
		expires = s.cfg.Now().Unix() + DefaultTokenTTL
	case *body.TTL < 0 || *body.TTL > maxTokenTTL:
		return nil, protocol.Errorf(protocol.KindInvalid, "ttl must be 0 (never expires) to %d seconds", maxTokenTTL)
	case *body.TTL > 0:
		expires = s.cfg.Now().Unix() + *body.TTL
	}
	var tok string
	switch body.Version {
	case 0, token.V1:
		tok = token.GenerateV1(rq.app.ID, rq.app.Certificate, account, expires)
	case token.V2:
		tok = token.GenerateV2(rq.app.ID, rq.app.Certificate, account, expires)
	default:
		return nil, protocol.Errorf(protocol.KindInvalid, "version must be 1 or 2")
	}
	return TokenResponse{Account: account, Token: tok, Expires: expires}, nil
}

func (s *Server) webhookTest(ctx context.Context, rq *request) (any, error) {
	if s.cfg.Webhooks == nil {
		return nil, protocol.Errorf(protocol.KindNotFound, "%s", ErrNoWebhooks.Error())
	}
	id, err := s.cfg.Webhooks.Test(ctx, rq.app.ID)
	if errors.Is(err, ErrNoWebhooks) {
		return nil, protocol.Errorf(protocol.KindNotFound, "%s", ErrNoWebhooks.Error())
	}
	if err != nil {
		return nil, err
	}
	return WebhookTestResponse{EventID: id}, nil
}
