/* bench-floor: the "bare libfcgi responder" of tests/bench/run.
 *
 * It is the floor a real program is measured against: the same libfcgi
 * accept loop as lib/web/app.c (one FCGX_PutStr of a whole response per
 * request), but no parsing, no session, no SQL, no JSON, no template. Its
 * answers are captured responses of the real stack, so both send the same
 * bytes through the same nginx settings.
 *
 *   bench-floor DIR
 *
 * At start it reads every DIR/NAME.resp (a CGI response: header lines, a
 * blank line, the body) into memory; a request whose DOCUMENT_URI ends in
 * /NAME gets NAME.resp, anything else a 404. Run it under spawn-fcgi. */
#include <dirent.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSES 32

struct response {
    char name[64];
    char *bytes;
    int len;
};

static struct response responses[MAX_RESPONSES];
static int nresponses;

static int load(const char *dir, const char *file)
{
    size_t n = strlen(file);
    if (n <= 5 || strcmp(file + n - 5, ".resp") || n - 5 >= sizeof responses[0].name)
        return 0;
    if (nresponses == MAX_RESPONSES) {
        fprintf(stderr, "bench-floor: more than %d responses in %s\n", MAX_RESPONSES, dir);
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) < 0) {
        perror(path);
        return -1;
    }
    long size = ftell(f);
    struct response *r = &responses[nresponses];
    r->bytes = malloc(size > 0 ? (size_t)size : 1);
    rewind(f);
    if (size < 0 || !r->bytes || fread(r->bytes, 1, (size_t)size, f) != (size_t)size) {
        perror(path);
        fclose(f);
        return -1;
    }
    fclose(f);
    memcpy(r->name, file, n - 5);
    r->name[n - 5] = '\0';
    r->len = (int)size;
    nresponses++;
    return 0;
}

static const struct response *find(const char *uri)
{
    const char *slash = uri ? strrchr(uri, '/') : NULL;
    if (!slash)
        return NULL;
    for (int i = 0; i < nresponses; i++)
        if (!strcmp(slash + 1, responses[i].name))
            return &responses[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench-floor DIR\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (load(argv[1], e->d_name) < 0)
            return 1;
    closedir(d);

    static const char not_found[] = "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such response\n";
    FCGX_Request req;
    if (FCGX_Init() != 0)
        return 1;
    FCGX_InitRequest(&req, 0, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        const struct response *r = find(FCGX_GetParam("DOCUMENT_URI", req.envp));
        if (r)
            FCGX_PutStr(r->bytes, r->len, req.out);
        else
            FCGX_PutStr(not_found, (int)sizeof not_found - 1, req.out);
        FCGX_Finish_r(&req);
    }
    return 0;
}
