/* replay: runs inputs through a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so the
 * regression inputs and the seed corpus run in ctest - in the normal build, under the sanitizers
 * and under valgrind. Usage: replay-<target> PATH...: each file, and every file of each directory
 * (sorted by name; a directory that does not exist holds no inputs). A failed check aborts; exit
 * status 0 means every input passed, 2 a usage or I/O problem. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *data = malloc(cap);
    for (;;) {
        if (!data)
            abort();
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            cap *= 2;
            data = realloc(data, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the files of dir; returns how many, or -1. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    for (e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 1) * sizeof(*names));
        if (!grown)
            abort();
        names = grown;
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n])
            abort();
        memcpy(names[n], dir, strlen(dir));
        names[n][strlen(dir)] = '/';
        memcpy(names[n] + strlen(dir) + 1, e->d_name, strlen(e->d_name) + 1);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), by_name);
    long done = 0;
    for (size_t i = 0; i < n; i++) {
        if (done >= 0 && replay_file(names[i]) == 0)
            done++;
        else
            done = -1;
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) == 0 && !S_ISDIR(st.st_mode))
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        else
            n = replay_dir(argv[i]);
        if (n < 0) {
            fprintf(stderr, "replay: cannot replay %s\n", argv[i]);
            return 2;
        }
        printf("replay: %ld input(s) from %s passed\n", n, argv[i]);
        total += n;
    }
    printf("replay: %ld input(s) passed\n", total);
    return 0;
}
