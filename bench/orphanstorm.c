/* orphanstorm: time for PID 1 to reap N orphaned grandchildren.
 *
 *   orphanstorm N    run as the child of the supervisor under test, in a new
 *                    PID namespace: creates N processes under a parent that
 *                    exits (so they are orphans of PID 1), releases them all
 *                    at once, and prints "WALL_MS CPU_MS": the time until
 *                    /proc shows nobody but PID 1 and itself, and the CPU
 *                    time PID 1 (the reaper) used meanwhile. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int count_processes(void)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
                        n++;
        closedir(d);
        return n;
}

/* Nanoseconds PID 1 has spent on a CPU (first field of schedstat). */
static double pid1_cpu_ms(void)
{
        FILE *f = fopen("/proc/1/schedstat", "r");
        unsigned long long ns = 0;

        if (!f)
                return -1;
        if (fscanf(f, "%llu", &ns) != 1)
                ns = 0;
        fclose(f);
        return ns / 1e6;
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 10000, gate[2];
        struct timespec pause_1ms = { 0, 1000000 };

        if (pipe(gate) < 0)
                return 1;
        pid_t mid = fork();
        if (mid == 0) {
                close(gate[1]);
                for (int i = 0; i < n; i++) {
                        if (fork() == 0) {
                                char c;
                                while (read(gate[0], &c, 1) > 0)
                                        ;
                                _exit(0);
                        }
                }
                _exit(0);
        }
        close(gate[0]);
        waitpid(mid, NULL, 0);
        while (count_processes() < n + 2)
                nanosleep(&pause_1ms, NULL);
        double cpu0 = pid1_cpu_ms(), t0 = now_ms();
        close(gate[1]);
        while (count_processes() > 2)
                nanosleep(&pause_1ms, NULL);
        printf("%.1f %.2f\n", now_ms() - t0, pid1_cpu_ms() - cpu0);
        return 0;
}
