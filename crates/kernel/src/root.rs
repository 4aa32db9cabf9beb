//! The kernel's only global: the pointer to the [`Kernel`] root object.
//!
//! It is written once, at boot, before the first user process starts; every other piece of
//! kernel state hangs off the `Kernel` value, which lives in the shared kernel heap.
#![allow(unsafe_code)]

use crate::Kernel;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

static ROOT: AtomicPtr<Kernel> = AtomicPtr::new(core::ptr::null_mut());

/// The kernel. Panics if called before boot (a LibOS bug, never a user error).
pub fn kernel() -> &'static Kernel {
    let ptr = ROOT.load(Ordering::Acquire);
    assert!(!ptr.is_null(), "kernel used before boot");
    // SAFETY: the pointer comes from `Box::leak` in `install` and is never freed or changed.
    unsafe { &*ptr }
}

/// Makes `kernel` the root object. Called once, at boot.
pub(crate) fn install(kernel: Box<Kernel>) -> &'static Kernel {
    let leaked: &'static mut Kernel = Box::leak(kernel);
    let previous = ROOT.swap(leaked, Ordering::AcqRel);
    assert!(previous.is_null(), "kernel booted twice");
    leaked
}
