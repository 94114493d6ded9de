/* siglat: SIGTERM-to-child latency through a supervisor.
 *
 *   siglat N SUPERVISOR [ARGS...]   driver: runs SUPERVISOR ARGS... siglat child FD,
 *                                   sends N SIGTERMs to the supervisor, prints
 *                                   "median_us p99_us"
 *   siglat child FD                 child: writes CLOCK_MONOTONIC ns to FD when
 *                                   started and on every SIGTERM */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int out_fd;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_term(int signo)
{
        uint64_t t = now_ns();
        (void)signo;
        ssize_t r = write(out_fd, &t, sizeof t);
        (void)r;
}

static _Noreturn void child(int fd)
{
        struct sigaction sa = { .sa_handler = on_term };
        sigset_t none;

        out_fd = fd;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        on_term(0);
        for (;;)
                pause();
}

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static int read_stamp(int fd, uint64_t *t)
{
        return read(fd, t, sizeof *t) == sizeof *t ? 0 : -1;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "child") == 0)
                child(atoi(argv[2]));
        if (argc < 3)
                return 64;
        int n = atoi(argv[1]), fds[2];
        char fdarg[16], self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        uint64_t *lat = calloc((size_t)n, sizeof *lat), t;

        if (len < 0 || !lat || pipe(fds) < 0)
                return 1;
        self[len] = '\0';
        snprintf(fdarg, sizeof fdarg, "%d", fds[1]);
        pid_t sup = fork();
        if (sup == 0) {
                char **args = calloc((size_t)argc + 3, sizeof *args);
                int k = 0;
                for (int i = 2; i < argc; i++)
                        args[k++] = argv[i];
                args[k++] = self;
                args[k++] = "child";
                args[k++] = fdarg;
                close(fds[0]);
                int devnull = open("/dev/null", O_WRONLY);
                dup2(devnull, 2);
                execvp(args[0], args);
                _exit(127);
        }
        close(fds[1]);
        if (read_stamp(fds[0], &t) < 0)
                return 1;
        for (int i = 0; i < n; i++) {
                uint64_t t0 = now_ns();
                kill(sup, SIGTERM);
                if (read_stamp(fds[0], &t) < 0)
                        return 1;
                lat[i] = t - t0;
        }
        /* USR1 is forwarded by every supervisor and ends the child, and
         * with it the supervisor: nothing is left behind. */
        kill(sup, SIGUSR1);
        waitpid(sup, NULL, 0);
        qsort(lat, (size_t)n, sizeof *lat, cmp);
        printf("%.1f %.1f\n", (double)lat[n / 2] / 1000.0, (double)lat[(n * 99) / 100] / 1000.0);
        free(lat);
        return 0;
}
