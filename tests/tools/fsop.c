/*
 * fsop: perform exactly the POSIX calls a test names and print what they
 * returned, so shell tests can check errno values the shell cannot see.
 *
 * One call:      fsop CALL ARGS...      prints "OK" or the errno name
 * A sequence:    fsop seq PATH STEP...  prints one token per step
 *
 * Exit status: 0 when every call succeeded, 1 when one failed, 2 on misuse.
 * Numbers accept C syntax (0x.., leading 0 = octal); modes are always octal.
 *
 * Calls:
 *   stat PATH | lstat PATH | open PATH FLAGS [MODE] | opendir PATH
 *   mkdir PATH MODE | rmdir PATH | unlink PATH | mknod PATH fifo|sock MODE
 *   rename OLD NEW [noreplace|exchange] | link OLD NEW | symlink TARGET PATH
 *   truncate PATH LEN | chmod PATH MODE | chown PATH UID GID (-1 keeps)
 *   utimens PATH ATIME MTIME   (each: now | omit | SEC[.NSEC])
 *   setxattr PATH NAME VALUE [create|replace] | getxattr PATH NAME
 *   removexattr PATH NAME | read PATH OFF LEN (pread, must return LEN bytes)
 * FLAGS: comma list of rdonly wronly rdwr creat excl trunc append nofollow
 *   directory.
 * seq steps, applied to one file descriptor (tokens: OK, errno name, value):
 *   o:FLAGS[:MODE] open PATH     c        close
 *   w:OFF:TEXT     pwrite TEXT   W:TEXT   write TEXT at the file position
 *   t:LEN          ftruncate     s:OFF    lseek SEEK_SET
 *   e              lseek SEEK_END, prints the offset
 *   f              fstat, prints st_size
 *   r:OFF:LEN      pread, prints the byte count
 *   R:OFF:LEN      pread, prints the bytes read as text
 *   y              fsync         u        unlink PATH
 *   z:MS           sleep MS milliseconds (prints OK)
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int failed;

/* Print the outcome of one call: rc < 0 means errno holds the reason. */
static void report(long rc)
{
	if (rc >= 0) {
		fputs("OK", stdout);
		return;
	}
	const char *name = strerrorname_np(errno);
	if (name)
		fputs(name, stdout);
	else
		printf("E%d", errno);
	failed = 1;
}

static void usage(void)
{
	fputs("usage: fsop CALL ARGS... | fsop seq PATH STEP... "
	      "(see the comment at the top of fsop.c)\n", stderr);
	exit(2);
}

static long long num(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		usage();
	return v;
}

static mode_t octal(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 8);
	if (end == s || *end)
		usage();
	return (mode_t)v;
}

static int open_flags(const char *list)
{
	static const struct { const char *name; int flag; } tab[] = {
		{ "rdonly", O_RDONLY }, { "wronly", O_WRONLY }, { "rdwr", O_RDWR },
		{ "creat", O_CREAT }, { "excl", O_EXCL }, { "trunc", O_TRUNC },
		{ "append", O_APPEND }, { "nofollow", O_NOFOLLOW },
		{ "directory", O_DIRECTORY },
	};
	int flags = 0;
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
			if (strlen(tab[i].name) == len && !strncmp(tab[i].name, p, len))
				break;
		if (i == sizeof tab / sizeof tab[0])
			usage();
		flags |= tab[i].flag;
		p += len;
		if (*p == ',')
			p++;
	}
	return flags;
}

static struct timespec time_arg(const char *s)
{
	struct timespec ts = { 0, 0 };
	if (!strcmp(s, "now")) {
		ts.tv_nsec = UTIME_NOW;
	} else if (!strcmp(s, "omit")) {
		ts.tv_nsec = UTIME_OMIT;
	} else {
		char *end;
		ts.tv_sec = strtoll(s, &end, 10);
		if (*end == '.') {
			/* Fraction as written: ".5" is 500000000 ns. */
			long scale = 100000000;
			for (end++; *end >= '0' && *end <= '9' && scale; end++, scale /= 10)
				ts.tv_nsec += (*end - '0') * scale;
		}
		if (*end)
			usage();
	}
	return ts;
}

static long one_call(int argc, char **argv)
{
	const char *c = argv[1];
	if (argc < 3)
		usage();
	const char *p = argv[2];
	struct stat st;
	int fd;

	if (!strcmp(c, "stat"))
		return stat(p, &st);
	if (!strcmp(c, "lstat"))
		return lstat(p, &st);
	if (!strcmp(c, "open") && (argc == 4 || argc == 5)) {
		fd = open(p, open_flags(argv[3]), argc == 5 ? octal(argv[4]) : 0);
		if (fd >= 0)
			close(fd);
		return fd;
	}
	if (!strcmp(c, "opendir")) {
		fd = open(p, O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			close(fd);
		return fd;
	}
	if (!strcmp(c, "mkdir") && argc == 4)
		return mkdir(p, octal(argv[3]));
	if (!strcmp(c, "rmdir"))
		return rmdir(p);
	if (!strcmp(c, "unlink"))
		return unlink(p);
	if (!strcmp(c, "mknod") && argc == 5) {
		mode_t type = !strcmp(argv[3], "fifo") ? S_IFIFO
			    : !strcmp(argv[3], "sock") ? S_IFSOCK : 0;
		if (!type)
			usage();
		return mknod(p, type | octal(argv[4]), 0);
	}
	if (!strcmp(c, "rename") && (argc == 4 || argc == 5)) {
		unsigned flags = 0;
		if (argc == 5 && !strcmp(argv[4], "noreplace"))
			flags = RENAME_NOREPLACE;
		else if (argc == 5 && !strcmp(argv[4], "exchange"))
			flags = RENAME_EXCHANGE;
		else if (argc == 5)
			usage();
		return renameat2(AT_FDCWD, p, AT_FDCWD, argv[3], flags);
	}
	if (!strcmp(c, "link") && argc == 4)
		return link(p, argv[3]);
	if (!strcmp(c, "symlink") && argc == 4)
		return symlink(p, argv[3]);
	if (!strcmp(c, "truncate") && argc == 4)
		return truncate(p, (off_t)num(argv[3]));
	if (!strcmp(c, "chmod") && argc == 4)
		return chmod(p, octal(argv[3]));
	if (!strcmp(c, "chown") && argc == 5)
		return chown(p, (uid_t)num(argv[3]), (gid_t)num(argv[4]));
	if (!strcmp(c, "utimens") && argc == 5) {
		struct timespec ts[2] = { time_arg(argv[3]), time_arg(argv[4]) };
		return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
	}
	if (!strcmp(c, "setxattr") && (argc == 5 || argc == 6)) {
		int flags = 0;
		if (argc == 6)
			flags = !strcmp(argv[5], "create") ? XATTR_CREATE
			      : !strcmp(argv[5], "replace") ? XATTR_REPLACE : -1;
		if (flags < 0)
			usage();
		return setxattr(p, argv[3], argv[4], strlen(argv[4]), flags);
	}
	if (!strcmp(c, "getxattr") && argc == 4) {
		char buf[65536];
		return getxattr(p, argv[3], buf, sizeof buf);
	}
	if (!strcmp(c, "removexattr") && argc == 4)
		return removexattr(p, argv[3]);
	if (!strcmp(c, "read") && argc == 5) {
		size_t len = (size_t)num(argv[4]);
		char *buf = malloc(len ? len : 1);
		long rc = -1;
		fd = open(p, O_RDONLY);
		if (buf && fd >= 0) {
			ssize_t n = pread(fd, buf, len, (off_t)num(argv[3]));
			if (n >= 0 && (size_t)n != len)
				errno = ENODATA; /* short read: reported, not hidden */
			rc = (n >= 0 && (size_t)n == len) ? 0 : -1;
		}
		int saved = errno;
		if (fd >= 0)
			close(fd);
		free(buf);
		errno = saved;
		return rc;
	}
	usage();
	return -1;
}

/* One seq step on *fd; prints its token. */
static void step(const char *path, int *fd, char *s)
{
	char op = s[0];
	char *a = s[1] == ':' ? s + 2 : NULL;
	char *b = a ? strchr(a, ':') : NULL;
	struct stat st;
	off_t r;

	if (b)
		*b++ = '\0';
	switch (op) {
	case 'o':
		if (!a)
			usage();
		if (*fd >= 0)
			close(*fd);
		*fd = open(path, open_flags(a), b ? octal(b) : 0644);
		report(*fd);
		break;
	case 'c':
		report(close(*fd));
		*fd = -1;
		break;
	case 'w':
		if (!b)
			usage();
		r = pwrite(*fd, b, strlen(b), (off_t)num(a));
		if (r >= 0 && (size_t)r != strlen(b))
			printf("short%lld", (long long)r), failed = 1;
		else
			report(r);
		break;
	case 'W':
		if (!a)
			usage();
		if (b)
			b[-1] = ':'; /* the text may hold colons */
		r = write(*fd, a, strlen(a));
		if (r >= 0 && (size_t)r != strlen(a))
			printf("short%lld", (long long)r), failed = 1;
		else
			report(r);
		break;
	case 't':
		if (!a)
			usage();
		report(ftruncate(*fd, (off_t)num(a)));
		break;
	case 's':
		if (!a)
			usage();
		report(lseek(*fd, (off_t)num(a), SEEK_SET));
		break;
	case 'e':
		r = lseek(*fd, 0, SEEK_END);
		if (r >= 0)
			printf("%lld", (long long)r);
		else
			report(r);
		break;
	case 'f':
		if (fstat(*fd, &st) == 0)
			printf("%lld", (long long)st.st_size);
		else
			report(-1);
		break;
	case 'r':
	case 'R': {
		if (!b)
			usage();
		size_t len = (size_t)num(b);
		char *buf = malloc(len + 1);
		if (!buf)
			exit(2);
		r = pread(*fd, buf, len, (off_t)num(a));
		if (r < 0)
			report(r);
		else if (op == 'r')
			printf("%lld", (long long)r);
		else
			fwrite(buf, 1, (size_t)r, stdout);
		free(buf);
		break;
	}
	case 'y':
		report(fsync(*fd));
		break;
	case 'u':
		report(unlink(path));
		break;
	case 'z': {
		if (!a)
			usage();
		long long ms = num(a);
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		fputs("OK", stdout);
		break;
	}
	default:
		usage();
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "seq")) {
		int fd = -1;
		if (argc < 4)
			usage();
		for (int i = 3; i < argc; i++) {
			if (i > 3)
				putchar(' ');
			step(argv[2], &fd, argv[i]);
		}
		if (fd >= 0 && close(fd) != 0) {
			fputs(" close:", stdout);
			report(-1);
		}
	} else {
		report(one_call(argc, argv));
	}
	putchar('\n');
	return failed;
}
