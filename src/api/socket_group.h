// The API socket's group (`serve --socket-group GROUP`, docs/security.md): the members of one
// group use the controller through its unix socket as its owner does, as the members of the
// docker group use dockerd's. The socket is then 0660 and the home 0710, both of that group, so
// members may reach the socket; passing through the home gives them nothing their role (admin)
// does not already give them through the API.
//
// Membership is the system's record (NSS: the user's primary group in passwd, supplementary
// ones in group), looked up at each request, never the groups a process carries: a user taken
// out of the group is refused from the next request on, whatever their login session still
// holds, and a process that was handed the group (setgroups) is not a member by that.
//
// Thread-safe: the getpw*_r/getgr*_r functions only.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace lastgood {

// The gid of group `name`. InvalidInput (field "socket-group") when no such group exists.
Result<gid_t> ResolveSocketGroup(const std::string& name);

// Whether user `uid` is a member of group `gid` by the system's record (see above). False for
// a uid that has no passwd entry.
bool IsGroupMember(uid_t uid, gid_t gid);

// Gives the socket at `socket_path` and its folder (the home) to group `gid`: the socket
// 0660, the folder 0710 (members may pass through it, not list it). Unavailable if either
// cannot be changed (a controller that is neither root nor a member of the group).
Status ShareWithGroup(const std::string& socket_path, gid_t gid);

}  // namespace lastgood
