/* The real servers of the health benchmark, as cheap as a server can be so the
 * lab's single CPU goes to the checkers: a blocking accept loop on 0.0.0.0
 * (every 127.0.0.0/8 address is local). "tcp": accept and close. "http": read
 * the request, answer 200 "ok", close. SIGUSR1 prints the count served. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t report;
static void on_usr1(int s) { (void)s; report = 1; }

int main(int argc, char **argv) {
  int http = argc > 1 && strcmp(argv[1], "http") == 0;
  int port = argc > 2 ? atoi(argv[2]) : 8080;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1; /* no SA_RESTART: accept returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 8192)) { perror("listen"); return 1; }
  printf("ready\n");
  fflush(stdout);
  static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  char buf[4096];
  unsigned long served = 0;
  for (;;) {
    if (report) {
      report = 0;
      printf("%lu\n", served);
      fflush(stdout);
    }
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    served++;
    if (http) {
      /* one read is the whole request from a health checker */
      if (recv(c, buf, sizeof buf, 0) > 0) send(c, resp, sizeof resp - 1, MSG_NOSIGNAL);
    }
    close(c);
  }
}
