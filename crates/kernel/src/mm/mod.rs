//! Memory management: the per-process set of user mappings ([`Vm`]) and the memory syscalls
//! built on it (in `syscall/mmap.rs`).

mod vm;
pub use vm::{MappedFile, Vm, Vma, VmaKind};
