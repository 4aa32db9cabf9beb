// sysinfo: success and sane relations between fields (no values printed).
#include "common.h"
#include <sys/sysinfo.h>

int main(void)
{
    struct sysinfo si;
    memset(&si, 0, sizeof si);
    EXPECT_OK("sysinfo", sysinfo(&si));
    CHECK("mem_unit_positive", si.mem_unit > 0);
    CHECK("totalram_positive", si.totalram > 0);
    CHECK("freeram_le_totalram", si.freeram <= si.totalram);
    CHECK("freeswap_le_totalswap", si.freeswap <= si.totalswap);
    CHECK("uptime_positive", si.uptime > 0);
    CHECK("procs_positive", si.procs > 0);
    CHECK("totalram_at_least_16m", (unsigned long long)si.totalram * si.mem_unit >= (16ULL << 20));
    CHECK("nprocs_positive", get_nprocs() > 0);
    CHECK("nprocs_conf_ge_nprocs", get_nprocs_conf() >= get_nprocs());
    CHECK("sysconf_pagesize", sysconf(_SC_PAGESIZE) == 4096);
    CHECK("sysconf_nprocs_online", sysconf(_SC_NPROCESSORS_ONLN) > 0);
    CHECK("sysconf_clk_tck", sysconf(_SC_CLK_TCK) == 100);
    EXPECT_ERR("sysinfo_efault", syscall(SYS_sysinfo, BAD_PTR), EFAULT);
    return finish();
}
