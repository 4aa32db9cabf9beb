/* A small program for the README demo: reads a file of the instance and reports on itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct utsname u;
    uname(&u);
    printf("hello from %s on %s %s (pid %d)\n", argv[0], u.sysname, u.machine, getpid());
    FILE *f = fopen("/etc/hostname", "r");
    char name[256] = "";
    if (f && fgets(name, sizeof name, f)) {
        name[strcspn(name, "\n")] = 0;
        printf("instance hostname file says: %s\n", name);
    }
    for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
    return argc > 1 ? atoi(argv[1]) : 0;
}
