/* The "distroless" test application: one static binary, no shell. Serves a fixed reply on
 * port 8080 so a debugger can see it (ps, netstat, /proc/<pid>/root). */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char reply[] =
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n\r\n"
    "hello from podscope-app";

static void on_term(int sig) { (void)sig; _exit(0); }

int main(void) {
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(8080)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0) {
        perror("podscope-app: listen :8080");
        return 1;
    }
    fprintf(stderr, "podscope-app: serving on :8080\n");
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        if (conn < 0) continue;
        char buf[1024];
        (void)read(conn, buf, sizeof buf);
        (void)write(conn, reply, sizeof reply - 1);
        close(conn);
    }
}
