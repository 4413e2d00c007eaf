/* notify_sink - stand in for systemd's notification socket in tests.
 *
 * usage: notify_sink SOCKET_PATH OUT_FILE
 * Binds an AF_UNIX datagram socket at SOCKET_PATH (what NOTIFY_SOCKET names)
 * and appends each datagram to OUT_FILE as one line:
 *   <monotonic ms> <payload with newlines shown as '|'>
 * flushed at once, until SIGTERM/SIGINT. Exit 0, or 1 if the socket cannot
 * be bound. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t running = 1;

static void on_stop(int sig)
{
    (void)sig;
    running = 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notify_sink SOCKET_PATH OUT_FILE\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "notify_sink: socket path too long\n");
        return 1;
    }
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        fprintf(stderr, "notify_sink: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    FILE *out = fopen(argv[2], "a");
    if (!out) {
        fprintf(stderr, "notify_sink: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    struct sigaction act = {.sa_handler = on_stop}; /* no SA_RESTART: recv returns EINTR */
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    char buf[4096];
    while (running) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("notify_sink: recv");
            break;
        }
        buf[n] = '\0';
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                buf[i] = '|';
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(out, "%lld %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, buf);
        fflush(out);
    }
    fclose(out);
    close(fd);
    unlink(argv[1]);
    return 0;
}
