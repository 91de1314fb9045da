package config

import (
	"os"
	"os/user"
	"slices"
	"strconv"
)

// user resolves user, group and groups against the container's /etc/passwd and /etc/group, as
// runuser(1) would: the primary group is the user's unless group says otherwise, and the
// supplementary groups are those /etc/group lists the user in unless groups is given (an empty
// groups list clears them).
func (l *loader) user(file, prefix string, userNode, groupNode, groupsNode *node) *User {
	key := prefix + "user"
	groupsSet := groupsNode != nil
	var groups []*node
	if groupsSet {
		switch groupsNode.kind {
		case kindArray:
			groups = groupsNode.array
		case kindString, kindInteger:
			groups = []*node{groupsNode}
		default:
			l.wrongType(file, prefix+"groups", groupsNode, "an array of group names or gids")
			return nil
		}
	}
	spec, ok := l.idSpec(file, key, userNode, "a user name or uid")
	if !ok {
		return nil
	}
	u := &User{Name: spec, Home: "/"}
	found, err := lookupUser(spec)
	switch {
	case err == nil:
		u.Name, u.Home = found.Username, found.HomeDir
		u.Uid = parseID(found.Uid)
		u.Gid = parseID(found.Gid)
		if !groupsSet {
			ids, err := found.GroupIds()
			if err == nil {
				for _, id := range ids {
					if g := parseID(id); g != u.Gid {
						u.Groups = append(u.Groups, g)
					}
				}
			}
		}
	case isID(spec):
		// A numeric uid need not be in /etc/passwd (images often run arbitrary uids); its
		// group is then the same number rather than root's, unless group says otherwise.
		u.Uid = parseID(spec)
		u.Gid = u.Uid
	default:
		l.errorf(file, userNode.line, key, "no such user %q in /etc/passwd", spec)
		return nil
	}
	if groupNode != nil {
		name, ok := l.idSpec(file, prefix+"group", groupNode, "a group name or gid")
		if !ok {
			return nil
		}
		gid, ok := l.group(file, prefix+"group", groupNode.line, name)
		if !ok {
			return nil
		}
		u.Gid = gid
	}
	if groupsSet {
		u.Groups = []uint32{}
		for _, g := range groups {
			name, ok := l.idSpec(file, prefix+"groups", g, "group names or gids")
			if !ok {
				return nil
			}
			gid, ok := l.group(file, prefix+"groups", g.line, name)
			if !ok {
				return nil
			}
			u.Groups = append(u.Groups, gid)
		}
	}
	if u.Groups == nil {
		u.Groups = []uint32{} // uno's own supplementary groups must not pass on
	}
	if euid := os.Geteuid(); euid != 0 {
		if u.Uid != uint32(euid) {
			l.errorf(file, userNode.line, key, "uno runs as uid %d, not root, and cannot switch to %s (uid %d)", euid, u.Name, u.Uid)
			return nil
		}
		// uno's own user: no switch. Groups asked for that uno does not have cannot be had.
		if egid := os.Getegid(); groupNode != nil && u.Gid != uint32(egid) {
			l.errorf(file, groupNode.line, prefix+"group", "uno runs as uid %d, not root, with gid %d, and cannot switch to gid %d", euid, egid, u.Gid)
			return nil
		}
		if groupsSet && !sameGroups(append([]uint32{u.Gid}, u.Groups...), ownGroups()) {
			l.errorf(file, groupsNode.line, prefix+"groups", "uno runs as uid %d, not root, and cannot change its groups %v (its programs keep them)", euid, ownGroups())
			return nil
		}
		u.AsUno = true
	}
	return u
}

// sameGroups reports whether a and b hold the same groups, in any order.
func sameGroups(a, b []uint32) bool {
	for _, g := range a {
		if !slices.Contains(b, g) {
			return false
		}
	}
	for _, g := range b {
		if !slices.Contains(a, g) {
			return false
		}
	}
	return true
}

// ownGroups are uno's gid and supplementary groups.
func ownGroups() []uint32 {
	own := []uint32{uint32(os.Getegid())}
	ids, _ := os.Getgroups()
	for _, id := range ids {
		own = append(own, uint32(id))
	}
	return own
}

// idSpec reads a name or a numeric id. group and groups take TOML integers as user does: the
// documentation says "name or gid", and group = 1000 must not be refused where user = 1000 is
// accepted.
func (l *loader) idSpec(file, key string, n *node, want string) (string, bool) {
	switch n.kind {
	case kindString:
		return n.str, true
	case kindInteger:
		return strconv.FormatInt(n.num, 10), true
	}
	l.wrongType(file, key, n, want)
	return "", false
}

func (l *loader) group(file, key string, line int, spec string) (uint32, bool) {
	if isID(spec) {
		return parseID(spec), true
	}
	g, err := user.LookupGroup(spec)
	if err != nil {
		l.errorf(file, line, key, "no such group %q in /etc/group", spec)
		return 0, false
	}
	return parseID(g.Gid), true
}

func lookupUser(spec string) (*user.User, error) {
	if isID(spec) {
		return user.LookupId(spec)
	}
	return user.Lookup(spec)
}

func isID(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

func parseID(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}
