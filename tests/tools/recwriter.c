/*
 * recwriter: write a file the way PBX recorders do, so tests can compare
 * the result on recfs with the same run on a local disk.
 *
 *   recwriter [-H HDR] [-c CHUNK] [-n COUNT] [-p OFF]... [-s MS] [-S SEED]
 *             [-o MODE] [-k] FILE
 *
 *   -H HDR    header bytes written first, size fields zero (default 44)
 *   -c CHUNK  bytes per write() after the header (default 320: one frame)
 *   -n COUNT  number of chunks (default 100)
 *   -p OFF    at the end, seek back and write the 32-bit little-endian
 *             value size-OFF-4 at OFF (Asterisk: -p 4 -p 40; ffmpeg:
 *             -p 74 -p 4); repeatable, in the order given
 *   -s MS     sleep MS milliseconds after every chunk (a live call)
 *   -S SEED   content seed (default 1)
 *   -o MODE   w: O_WRONLY|O_CREAT|O_TRUNC (default); rw: O_RDWR|O_CREAT|
 *             O_TRUNC (sox); append: O_WRONLY|O_APPEND of an existing file,
 *             no header, chunks continue the content (FreePBX reopen)
 *   -k        after every write check that fstat and lseek(SEEK_END) give
 *             the true size
 *
 * Byte i of the content depends only on i and the seed, so an appended or
 * patched file has one correct image. Exit 0, or 1 with a message.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATCHES 8

static unsigned seed = 1;

static unsigned char content_byte(uint64_t i)
{
	return (unsigned char)((i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24)) * 131u + seed);
}

static void die(const char *what)
{
	fprintf(stderr, "recwriter: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const unsigned char *p, size_t n, const char *what)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(what);
		p += w;
		n -= (size_t)w;
	}
}

/* -k: both ways of asking for the size must give what was written. */
static void check_size(int fd, off_t want)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		die("fstat");
	off_t cur = lseek(fd, 0, SEEK_CUR);
	off_t end = lseek(fd, 0, SEEK_END);
	if (cur < 0 || end < 0 || lseek(fd, cur, SEEK_SET) < 0)
		die("lseek");
	if (st.st_size != want || end != want) {
		fprintf(stderr, "recwriter: size %lld by fstat, %lld by SEEK_END, "
			"want %lld\n", (long long)st.st_size, (long long)end,
			(long long)want);
		exit(1);
	}
}

static void header(unsigned char *h, size_t len)
{
	/* A PCM WAV header (8 kHz, mono, 16 bit) with zero sizes, padded. */
	static const unsigned char wav[44] = {
		'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E',
		'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0,
		0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
		'd', 'a', 't', 'a', 0, 0, 0, 0,
	};
	memset(h, 'J', len);
	memcpy(h, wav, len < sizeof wav ? len : sizeof wav);
}

int main(int argc, char **argv)
{
	size_t hdr = 44, chunk = 320;
	long count = 100, sleep_ms = 0;
	long patches[MAX_PATCHES];
	int npatch = 0, check = 0, opt;
	const char *mode = "w";

	while ((opt = getopt(argc, argv, "H:c:n:p:s:S:o:k")) != -1) {
		switch (opt) {
		case 'H': hdr = strtoul(optarg, NULL, 0); break;
		case 'c': chunk = strtoul(optarg, NULL, 0); break;
		case 'n': count = strtol(optarg, NULL, 0); break;
		case 'p':
			if (npatch == MAX_PATCHES)
				return 2;
			patches[npatch++] = strtol(optarg, NULL, 0);
			break;
		case 's': sleep_ms = strtol(optarg, NULL, 0); break;
		case 'S': seed = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'o': mode = optarg; break;
		case 'k': check = 1; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || chunk == 0) {
		fputs("usage: recwriter [-H HDR] [-c CHUNK] [-n COUNT] [-p OFF]... "
		      "[-s MS] [-S SEED] [-o w|rw|append] [-k] FILE\n", stderr);
		return 2;
	}
	int append = !strcmp(mode, "append");
	int flags = append ? O_WRONLY | O_APPEND
		  : !strcmp(mode, "rw") ? O_RDWR | O_CREAT | O_TRUNC
		  : O_WRONLY | O_CREAT | O_TRUNC;
	int fd = open(argv[optind], flags, 0644);
	if (fd < 0)
		die("open");

	off_t size = 0;
	if (append) {
		struct stat st;
		if (fstat(fd, &st) != 0)
			die("fstat");
		size = st.st_size;
	} else {
		unsigned char *h = malloc(hdr ? hdr : 1);
		if (!h)
			die("malloc");
		header(h, hdr);
		write_all(fd, h, hdr, "write header");
		free(h);
		size = (off_t)hdr;
		if (check)
			check_size(fd, size);
	}

	unsigned char *buf = malloc(chunk);
	if (!buf)
		die("malloc");
	for (long n = 0; n < count; n++) {
		for (size_t i = 0; i < chunk; i++)
			buf[i] = content_byte((uint64_t)size + i);
		write_all(fd, buf, chunk, "write");
		size += (off_t)chunk;
		if (check)
			check_size(fd, size);
		if (sleep_ms) {
			struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	free(buf);

	for (int i = 0; i < npatch; i++) {
		uint32_t v = (uint32_t)(size - patches[i] - 4);
		unsigned char le[4] = { (unsigned char)v, (unsigned char)(v >> 8),
					(unsigned char)(v >> 16), (unsigned char)(v >> 24) };
		if (lseek(fd, patches[i], SEEK_SET) != patches[i])
			die("lseek to patch");
		write_all(fd, le, 4, "write patch");
		if (check)
			check_size(fd, size);
	}
	if (close(fd) != 0)
		die("close");
	return 0;
}
