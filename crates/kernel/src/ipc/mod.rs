//! Inter-thread and inter-process communication primitives kept in the kernel heap.

pub mod futex;
pub mod sysv;
