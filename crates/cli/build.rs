//! Links `veil` with `link/huge-pages.ld` (see there; written for LLD, Rust's default linker
//! for x86_64 Linux since 1.90: GNU ld has no `.iplt` output section to insert after).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = format!("{dir}/link/huge-pages.ld");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
}
