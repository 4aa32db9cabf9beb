//! The instance's single user. Like a container, a program inside a Veil instance runs as root
//! (uid 0, gid 0) of the instance; the host-side identity is whoever ran `veil`.

/// User id of every process of the instance.
pub const UID: u32 = 0;
/// Group id of every process of the instance.
pub const GID: u32 = 0;
