#include "generation.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static uint64_t *shared_counter;   /* NULL: no file, nothing is reused */
static int64_t revalidate_ms;
static pthread_once_t opened = PTHREAD_ONCE_INIT;

static void generation_open(void)
{
    const char *path = config_str("cache", "generation_file", NULL);
    revalidate_ms = config_int("cache", "revalidate_ms", 1000);
    if (!path || !*path || revalidate_ms <= 0)
        return;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(uint64_t)) {
        log_warn("no write generation file %s: nothing is cached", path);
        if (fd >= 0)
            close(fd);
        return;
    }
    void *map = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        log_warn("cannot map %s: nothing is cached", path);
        return;
    }
    shared_counter = map;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void generation_bump(void)
{
    pthread_once(&opened, generation_open);
    if (shared_counter)
        __atomic_add_fetch(shared_counter, 1, __ATOMIC_SEQ_CST);
}

struct generation_mark generation_mark(void)
{
    pthread_once(&opened, generation_open);
    if (!shared_counter)
        return (struct generation_mark){ 0, 0 };
    /* +1: a fresh file holds 0, which means "never valid". */
    return (struct generation_mark){ __atomic_load_n(shared_counter, __ATOMIC_SEQ_CST) + 1,
                                     monotonic_ms() };
}

bool generation_fresh(struct generation_mark mark)
{
    if (!mark.generation)
        return false;
    struct generation_mark now = generation_mark();
    return now.generation == mark.generation && now.taken_ms - mark.taken_ms < revalidate_ms;
}
