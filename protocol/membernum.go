package protocol

// HdrMemberNum marks a member count on a channel subject. After every write
// that changes a channel's member list, the worker that wrote it publishes
// the channel's member count in this header, as of the list's revision in
// HdrMemberRev, with the onChannelAttrUpdated("_member_num") frame as the
// body. Edges keep the newest count of each channel they follow and push it
// every _auto_update_num seconds, so that the pushes cost no KV read; no
// member gets the message itself.
const HdrMemberNum = "Sb-Mnum"
