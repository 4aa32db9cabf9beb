// The auxiliary vector as seen through getauxval: page size, ids, secure
// mode, random bytes pointer, execfn, program headers and entry point; and,
// read straight from the initial stack, the host CPU's feature bits.
#include "common.h"
#include <elf.h>
#include <sys/auxv.h>

/* The value of `key` in the auxiliary vector that follows the environment on
 * the initial stack (0 if absent). Not getauxval: static glibc answers
 * AT_HWCAP with its own internal value, not the kernel's. */
static unsigned long stack_aux(char **envp, unsigned long key)
{
    while (*envp) envp++;
    for (unsigned long *a = (unsigned long *)(envp + 1); a[0] != AT_NULL; a += 2)
        if (a[0] == key) return a[1];
    return 0;
}

int main(int argc, char **argv, char **envp)
{
    (void)argc;
    /* The host's values, printed: the native run makes them the expected ones. */
    printf("AT_HWCAP: %lx\n", stack_aux(envp, AT_HWCAP));
    printf("AT_HWCAP2: %lx\n", stack_aux(envp, AT_HWCAP2));
    printf("AT_MINSIGSTKSZ: %lu\n", stack_aux(envp, AT_MINSIGSTKSZ));
    EXPECT_EQ("AT_PAGESZ", getauxval(AT_PAGESZ), 4096);
    CHECK("AT_UID_matches", getauxval(AT_UID) == getuid());
    CHECK("AT_EUID_matches", getauxval(AT_EUID) == geteuid());
    CHECK("AT_GID_matches", getauxval(AT_GID) == getgid());
    CHECK("AT_EGID_matches", getauxval(AT_EGID) == getegid());
    EXPECT_EQ("AT_SECURE", getauxval(AT_SECURE), 0);
    EXPECT_EQ("AT_CLKTCK", getauxval(AT_CLKTCK), 100);
    unsigned char *rnd = (unsigned char *)getauxval(AT_RANDOM);
    CHECK("AT_RANDOM_present", rnd != NULL);
    int nz = 0;
    for (int i = 0; rnd && i < 16; i++) nz += rnd[i] != 0;
    CHECK("AT_RANDOM_not_all_zero", nz > 4);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK("AT_EXECFN_equals_argv0", execfn && strcmp(execfn, argv[0]) == 0);
    CHECK("AT_PHDR_present", getauxval(AT_PHDR) != 0);
    EXPECT_EQ("AT_PHENT", getauxval(AT_PHENT), sizeof(Elf64_Phdr));
    CHECK("AT_PHNUM_present", getauxval(AT_PHNUM) > 0);
    CHECK("AT_ENTRY_present", getauxval(AT_ENTRY) != 0);
    CHECK("AT_HWCAP_present", getauxval(AT_HWCAP) != 0);
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    EXPECT_STR("AT_PLATFORM", plat, "x86_64");

    /* The program headers really are ours: one PT_PHDR or PT_LOAD exists
     * and the entry point lies inside an executable PT_LOAD. */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    size_t phnum = getauxval(AT_PHNUM);
    uintptr_t bias = 0;
    int have_load = 0, have_interp = 0, have_phdr = 0;
    for (size_t i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_PHDR) {
            bias = (uintptr_t)ph - ph[i].p_vaddr;
            have_phdr = 1;
        }
        if (ph[i].p_type == PT_LOAD) have_load = 1;
        if (ph[i].p_type == PT_INTERP) have_interp = 1;
    }
    if (!have_phdr) {
        /* No PT_PHDR: the PT_LOAD at file offset 0 maps the ELF header,
         * and the program headers follow it. */
        for (size_t i = 0; i < phnum; i++)
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
                bias = (uintptr_t)ph - sizeof(Elf64_Ehdr) - ph[i].p_vaddr;
                break;
            }
    }
    CHECK("has_pt_load", have_load);
    uintptr_t entry = getauxval(AT_ENTRY);
    int entry_ok = 0;
    for (size_t i = 0; i < phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && entry >= bias + ph[i].p_vaddr &&
            entry < bias + ph[i].p_vaddr + ph[i].p_memsz)
            entry_ok = 1;
    CHECK("entry_in_executable_segment", entry_ok);
    CHECK("AT_SYSINFO_EHDR_is_elf", getauxval(AT_SYSINFO_EHDR) == 0 ||
                                        memcmp((void *)getauxval(AT_SYSINFO_EHDR), ELFMAG, SELFMAG) == 0);
    /* AT_BASE: the interpreter's base for dynamic programs, 0 without one. */
    CHECK("AT_BASE_consistent", (getauxval(AT_BASE) != 0) == have_interp);
    return finish();
}
