// veil-test: args=alpha "two words" gamma
// veil-test: env=VEIL_TEST_VAR=hello_veil VEIL_EMPTY= VEIL_SPACES=a_b_c
// argv and environment passing: arguments, the declared variables, the
// complete (sorted) environment, and main's envp matching environ.
#include "common.h"

extern char **environ;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv, char **envp)
{
    printf("argc: %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]: [%s]\n", i, argv[i]);
    CHECK("argv_null_terminated", argv[argc] == NULL);
    CHECK("argv0_nonempty", argv[0] != NULL && argv[0][0] != 0);
    CHECK("envp_is_environ", envp == environ);
    CHECK("envp_follows_argv", envp == argv + argc + 1);

    EXPECT_STR("VEIL_TEST_VAR", getenv("VEIL_TEST_VAR"), "hello_veil");
    EXPECT_STR("VEIL_EMPTY", getenv("VEIL_EMPTY"), "");
    EXPECT_STR("VEIL_SPACES", getenv("VEIL_SPACES"), "a_b_c");
    CHECK("unset_is_null", getenv("VEIL_NOT_SET") == NULL);

    /* The whole environment, sorted. */
    int n = 0;
    while (environ[n]) n++;
    printf("env_count: %d\n", n);
    const char **copy = malloc(sizeof(char *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) copy[i] = environ[i];
    qsort(copy, (size_t)n, sizeof copy[0], cmp_str);
    for (int i = 0; i < n; i++) printf("env: %s\n", copy[i]);
    free(copy);

    /* setenv/unsetenv work on the process copy. */
    EXPECT_OK("setenv", setenv("VEIL_NEW", "new", 1));
    EXPECT_STR("getenv_new", getenv("VEIL_NEW"), "new");
    EXPECT_OK("unsetenv", unsetenv("VEIL_TEST_VAR"));
    CHECK("unset_gone", getenv("VEIL_TEST_VAR") == NULL);
    return finish();
}
