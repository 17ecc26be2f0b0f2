/*
 * parwrite: N recorders at once. Each thread creates DIR/wNN, writes SIZE
 * bytes after a 44-byte header in writes of varying length, patches offsets
 * 4 and 40 like Asterisk, and closes. When all are done every file is read
 * back and compared byte for byte with what its writer meant to write.
 *
 *   parwrite DIR N SIZE
 *
 * Prints one line per bad file and a summary; exit 0 only if all match.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR 44
#define MAX_WRITERS 256

struct writer {
	pthread_t thread;
	int index;
	char path[4096];
	size_t size;     /* bytes after the header */
	const char *err; /* what failed while writing, or NULL */
	int err_no;
};

static pthread_barrier_t start;

/* Writer i's byte at file offset off (the header is checked separately). */
static unsigned char expected(int i, uint64_t off)
{
	return (unsigned char)((off ^ (off >> 9) ^ (off >> 17)) * 2654435761u + (unsigned)i * 97u);
}

static void patch_value(unsigned char le[4], uint32_t v)
{
	le[0] = (unsigned char)v;
	le[1] = (unsigned char)(v >> 8);
	le[2] = (unsigned char)(v >> 16);
	le[3] = (unsigned char)(v >> 24);
}

/* The whole expected image of writer w's file. */
static unsigned char *image(const struct writer *w)
{
	size_t total = HDR + w->size;
	unsigned char *p = malloc(total);
	if (!p)
		return NULL;
	memset(p, 0, HDR);
	memcpy(p, "RIFF", 4);
	memcpy(p + 8, "WAVEfmt ", 8);
	memcpy(p + 36, "data", 4);
	for (size_t o = HDR; o < total; o++)
		p[o] = expected(w->index, o);
	patch_value(p + 4, (uint32_t)(total - 8));
	patch_value(p + 40, (uint32_t)(total - 44));
	return p;
}

static void *run(void *arg)
{
	struct writer *w = arg;
	unsigned char *img = image(w);
	size_t total = HDR + w->size, off = 0;
	unsigned rnd = (unsigned)w->index * 7919u + 1;
	unsigned char zero[HDR];
	int fd = -1;

	pthread_barrier_wait(&start);
	if (!img) {
		w->err = "malloc";
		goto out;
	}
	fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		w->err = "open";
		goto out;
	}
	/* The header goes out with zero sizes first, as recorders do. */
	memcpy(zero, img, HDR);
	memset(zero + 4, 0, 4);
	memset(zero + 40, 0, 4);
	if (write(fd, zero, HDR) != HDR) {
		w->err = "write header";
		goto out;
	}
	off = HDR;
	while (off < total) {
		rnd = rnd * 1103515245u + 12345u;
		size_t n = 1 + (rnd >> 8) % 40000; /* 1 byte up to ~39 KiB */
		if (n > total - off)
			n = total - off;
		ssize_t got = write(fd, img + off, n);
		if (got <= 0) {
			w->err = "write";
			goto out;
		}
		off += (size_t)got;
	}
	if (pwrite(fd, img + 4, 4, 4) != 4 || pwrite(fd, img + 40, 4, 40) != 4) {
		w->err = "pwrite patch";
		goto out;
	}
out:
	if (w->err)
		w->err_no = errno;
	if (fd >= 0 && close(fd) != 0 && !w->err) {
		w->err = "close";
		w->err_no = errno;
	}
	free(img);
	return NULL;
}

/* 0 when the file on disk equals the image; prints the first difference. */
static int verify(const struct writer *w)
{
	size_t total = HDR + w->size, off = 0;
	unsigned char *img = image(w), buf[65536];
	int fd = open(w->path, O_RDONLY), rc = -1;

	if (!img || fd < 0) {
		printf("%s: cannot open for verify: %s\n", w->path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			printf("%s: read at %zu: %s\n", w->path, off, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (off + (size_t)i >= total || buf[i] != img[off + (size_t)i]) {
				printf("%s: differs at offset %zu\n", w->path, off + (size_t)i);
				goto out;
			}
		}
		off += (size_t)n;
	}
	if (off != total) {
		printf("%s: size %zu, want %zu\n", w->path, off, total);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(img);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fputs("usage: parwrite DIR N SIZE\n", stderr);
		return 2;
	}
	int n = atoi(argv[2]);
	size_t size = strtoul(argv[3], NULL, 0);
	static struct writer w[MAX_WRITERS];
	int bad = 0;

	if (n < 1 || n > MAX_WRITERS)
		return 2;
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		w[i].index = i;
		/* Sizes differ a little so no two files are alike. */
		w[i].size = size + (size_t)i * 1021;
		snprintf(w[i].path, sizeof w[i].path, "%s/w%02d.wav", argv[1], i);
		if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	for (int i = 0; i < n; i++) {
		if (w[i].err) {
			printf("%s: %s: %s\n", w[i].path, w[i].err, strerror(w[i].err_no));
			bad++;
		} else if (verify(&w[i]) != 0) {
			bad++;
		}
	}
	printf("parwrite: %d writers, %d files bad\n", n, bad);
	return bad ? 1 : 0;
}
