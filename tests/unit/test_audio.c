/*
 * test_audio: audio_probe over an in-memory buffer. Audio files are made in
 * memory by libsndfile itself (virtual I/O in write mode), so nothing touches
 * the disk. Known answers for duration and format string; text, garbage,
 * truncated headers and failing reads must give a clean error, quickly and
 * without reading far — the probe runs on every closed file in recfs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "audio.h"
#include "check.h"

#define TONE_HZ 440
#define GARBAGE_BYTES (16u * 1024 * 1024)
#define TEXT_READ_LIMIT 4096 /* a text file must be refused from its head */

/* ---- a growable memory file for libsndfile to write into ---- */

struct memfile {
	unsigned char *buf;
	sf_count_t len, cap, pos;
};

static sf_count_t mem_filelen(void *user)
{
	return ((struct memfile *)user)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *user)
{
	struct memfile *m = user;
	sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;

	if (base + off < 0)
		return -1;
	m->pos = base + off;
	return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
	struct memfile *m = user;
	sf_count_t n = m->pos >= m->len ? 0 : m->len - m->pos;

	if (n > count)
		n = count;
	memcpy(ptr, m->buf + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
	struct memfile *m = user;
	sf_count_t end = m->pos + count;

	if (end > m->cap) {
		sf_count_t cap = m->cap ? m->cap : 4096;
		unsigned char *nb;

		while (cap < end)
			cap *= 2;
		nb = realloc(m->buf, (size_t)cap);
		if (!nb)
			return 0;
		memset(nb + m->cap, 0, (size_t)(cap - m->cap));
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->pos, ptr, (size_t)count);
	m->pos = end;
	if (end > m->len)
		m->len = end;
	return count;
}

static sf_count_t mem_tell(void *user)
{
	return ((struct memfile *)user)->pos;
}

/* A triangle tone of hz at t samples of rate: no libm needed. */
static short tone(long t, int hz, int rate)
{
	long period = rate / hz, ph = t % period, q = period / 4;
	long v = ph < q ? ph : ph < 3 * q ? 2 * q - ph : ph - 4 * q;

	return (short)(8000 * v / q);
}

/* Write seconds of a tone as format/rate/channels into m. 0 or -1. */
static int make_audio(struct memfile *m, int format, int rate, int channels, double seconds)
{
	SF_VIRTUAL_IO io = { mem_filelen, mem_seek, mem_read, mem_write, mem_tell };
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	sf_count_t frames = (sf_count_t)(seconds * rate + 0.5);
	short *pcm;
	SNDFILE *sf;
	int rc = -1;

	memset(m, 0, sizeof *m);
	pcm = malloc((size_t)frames * (size_t)channels * sizeof *pcm);
	if (!pcm)
		return -1;
	for (sf_count_t i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			pcm[i * channels + c] =
				tone((long)i, TONE_HZ * (c + 1), rate);
	sf = sf_open_virtual(&io, SFM_WRITE, &info, m);
	if (!sf) {
		fprintf(stderr, "sf_open_virtual: %s\n", sf_strerror(NULL));
		goto out;
	}
	if (sf_writef_short(sf, pcm, frames) != frames)
		fprintf(stderr, "sf_writef_short: %s\n", sf_strerror(sf));
	else
		rc = 0;
	if (sf_close(sf) != 0)
		rc = -1;
out:
	free(pcm);
	return rc;
}

/* ---- the probe's side: a buffer behind a pread-like callback ---- */

struct src {
	const unsigned char *buf;
	size_t len;
	size_t max_chunk; /* 0: no limit; else short reads of at most this */
	uint64_t fail_at; /* reads touching [fail_at, ...) fail with -EIO; 0: never */
	uint64_t bytes_read;
	unsigned calls;
};

static ssize_t src_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct src *s = ctx;

	s->calls++;
	if (s->fail_at && off + len > s->fail_at)
		return -EIO;
	if (off >= s->len)
		return 0;
	if (len > s->len - off)
		len = s->len - (size_t)off;
	if (s->max_chunk && len > s->max_chunk)
		len = s->max_chunk;
	memcpy(buf, s->buf + off, len);
	s->bytes_read += len;
	return (ssize_t)len;
}

static int probe_buf(const void *buf, size_t len, struct src *s, struct audio_info *ai)
{
	memset(s, 0, sizeof *s);
	s->buf = buf;
	s->len = len;
	return audio_probe(src_read, s, len, ai);
}

static int near(double a, double b, double tol)
{
	return a - b <= tol && b - a <= tol;
}

static int info_is_zero(const struct audio_info *ai)
{
	static const struct audio_info zero;

	return memcmp(ai, &zero, sizeof zero) == 0;
}

/* ---- known answers ---- */

struct known {
	const char *what;
	int format, rate, channels;
	double seconds, tol;
	const char *expect;
};

static const struct known knowns[] = {
	{ "PCM16 8 kHz mono 3.5 s", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 3.5, 0.01,
	  "WAV PCM16 8000Hz mono" },
	{ "u-law 8 kHz mono 2 s", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 2.0, 0.01,
	  "WAV PCMU 8000Hz mono" },
	{ "a-law 8 kHz mono 1.5 s", SF_FORMAT_WAV | SF_FORMAT_ALAW, 8000, 1, 1.5, 0.01,
	  "WAV PCMA 8000Hz mono" },
	{ "PCM16 16 kHz stereo 1.25 s", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, 1.25, 0.01,
	  "WAV PCM16 16000Hz stereo" },
	/* GSM 6.10 codes 320-sample blocks: the last one may be padded. */
	{ "GSM610 8 kHz mono 3.5 s", SF_FORMAT_WAV | SF_FORMAT_GSM610, 8000, 1, 3.5, 0.041,
	  "WAV GSM610 8000Hz mono" },
	{ "PCM8 8 kHz mono 1 s", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, 1.0, 0.01,
	  "WAV PCM8 8000Hz mono" },
	{ "FLOAT 48 kHz 3 ch 0.5 s", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 3, 0.5, 0.01,
	  "WAV FLOAT 48000Hz 3 ch" },
	{ "AU u-law 8 kHz mono 2 s", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, 1, 2.0, 0.01,
	  "AU PCMU 8000Hz mono" },
	{ "AIFF PCM16 8 kHz mono 2 s", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 8000, 1, 2.0, 0.01,
	  "AIFF PCM16 8000Hz mono" },
	{ "empty WAV", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.0, 0.0,
	  "WAV PCM16 8000Hz mono" },
};

static void test_known(const struct known *k)
{
	struct memfile m;
	struct audio_info ai;
	struct src s;
	char what[160];
	int rc;

	if (make_audio(&m, k->format, k->rate, k->channels, k->seconds) < 0) {
		snprintf(what, sizeof what, "%s: libsndfile writes it", k->what);
		CHECK(0, what);
		free(m.buf);
		return;
	}
	rc = probe_buf(m.buf, (size_t)m.len, &s, &ai);
	snprintf(what, sizeof what, "%s: recognised (rc %d)", k->what, rc);
	CHECK(rc == 0, what);
	snprintf(what, sizeof what, "%s: %.4f s", k->what, ai.seconds);
	CHECK(near(ai.seconds, k->seconds, k->tol), what);
	snprintf(what, sizeof what, "%s: format \"%s\"", k->what, ai.format);
	CHECK(strcmp(ai.format, k->expect) == 0, what);
	snprintf(what, sizeof what, "%s: header only read (%llu of %lld bytes)", k->what,
	         (unsigned long long)s.bytes_read, (long long)m.len);
	CHECK(s.bytes_read <= 4096 || s.bytes_read < (uint64_t)m.len / 2, what);

	/* The same through reads of at most 7 bytes. */
	memset(&s, 0, sizeof s);
	s.buf = m.buf;
	s.len = (size_t)m.len;
	s.max_chunk = 7;
	rc = audio_probe(src_read, &s, s.len, &ai);
	snprintf(what, sizeof what, "%s: same through short reads", k->what);
	CHECK(rc == 0 && strcmp(ai.format, k->expect) == 0 &&
	      near(ai.seconds, k->seconds, k->tol), what);
	free(m.buf);
}

/* ---- refusals ---- */

static void test_text(void)
{
	static const char *texts[] = {
		"Call log 2026-11-28\ncaller +41 44 123 45 67, 3 min\n",
		"#!/bin/sh\necho hello\n",
		"RIFF is a word too, but this is not a WAV file at all.\n",
		"<?xml version=\"1.0\"?><recording/>\n",
		"",
		"x",
	};
	struct audio_info ai;
	struct src s;

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char what[120];
		int rc;

		memset(&ai, 0x55, sizeof ai);
		rc = probe_buf(texts[i], strlen(texts[i]), &s, &ai);
		snprintf(what, sizeof what, "text %zu: -ENODATA (rc %d)", i, rc);
		CHECK(rc == -ENODATA, what);
		snprintf(what, sizeof what, "text %zu: info zeroed", i);
		CHECK(info_is_zero(&ai), what);
	}

	/* A large text file: refused from its head, not scanned. */
	{
		size_t len = 4u * 1024 * 1024;
		char *big = malloc(len);
		int rc;

		if (!big) {
			CHECK(0, "malloc for the large text");
			return;
		}
		for (size_t i = 0; i < len; i++)
			big[i] = "2026-11-28 12:00:01 call from +41 44 123 45 67\n"[i % 48];
		rc = probe_buf(big, len, &s, &ai);
		CHECK(rc == -ENODATA, "4 MiB log text: -ENODATA");
		CHECK(s.bytes_read <= TEXT_READ_LIMIT, "4 MiB log text: only its head read");
		free(big);
	}
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_garbage(void)
{
	unsigned char *g = malloc(GARBAGE_BYTES);
	struct audio_info ai;
	struct src s;
	char what[120];
	uint64_t seed = 0x5eed2026c0ffeeULL;

	if (!g) {
		CHECK(0, "malloc for garbage");
		return;
	}
	for (int round = 0; round < 8; round++) {
		int rc;

		for (size_t i = 0; i < GARBAGE_BYTES; i += 8) {
			uint64_t r = xorshift(&seed);
			memcpy(g + i, &r, 8);
		}
		rc = probe_buf(g, GARBAGE_BYTES, &s, &ai);
		snprintf(what, sizeof what, "garbage %d: -ENODATA (rc %d, %s)", round, rc, ai.format);
		CHECK(rc == -ENODATA, what);
		snprintf(what, sizeof what, "garbage %d: read %llu bytes, within the budget",
		         round, (unsigned long long)s.bytes_read);
		CHECK(s.bytes_read <= AUDIO_PROBE_READ_BYTES, what);
	}

	/* Garbage behind an MPEG audio frame sync, which invites a decoder to
	 * scan for more frames: still bounded by the budget. */
	{
		static const unsigned char sync[] = { 0xff, 0xfb, 0x90, 0x64 };
		int rc;

		memcpy(g, sync, sizeof sync);
		printf("note: libmpg123 may print \"Giving up searching valid MPEG header\": expected\n");
		fflush(stdout);
		rc = probe_buf(g, GARBAGE_BYTES, &s, &ai);
		snprintf(what, sizeof what, "MPEG sync + garbage: read %llu bytes, within the budget",
		         (unsigned long long)s.bytes_read);
		CHECK(s.bytes_read <= AUDIO_PROBE_READ_BYTES, what);
		snprintf(what, sizeof what, "MPEG sync + garbage: clean result (rc %d)", rc);
		CHECK(rc == -ENODATA || rc == 0, what);
	}

	/* Only a RIFF/WAVE magic, then garbage. */
	memcpy(g, "RIFF\x24\x00\x00\x00WAVEfmt ", 16);
	{
		int rc = probe_buf(g, GARBAGE_BYTES, &s, &ai);

		snprintf(what, sizeof what, "RIFF magic + garbage: -ENODATA (rc %d)", rc);
		CHECK(rc == -ENODATA, what);
		CHECK(s.bytes_read <= AUDIO_PROBE_READ_BYTES, "RIFF magic + garbage: within budget");
	}
	free(g);
}

/* Every prefix of a WAV file through its header and a bit beyond: a
 * clean answer each time (ASan/UBSan builds check "no crash"). */
static void test_truncated(void)
{
	struct memfile m;
	struct audio_info ai;
	struct src s;
	int bad = 0, recognised = 0;
	size_t first_ok = 0;

	if (make_audio(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 3.5) < 0) {
		CHECK(0, "libsndfile writes the WAV for truncation");
		free(m.buf);
		return;
	}
	for (size_t len = 0; len <= 200 && len <= (size_t)m.len; len++) {
		/* A copy of exactly len bytes, so ASan sees any read past it. */
		unsigned char *cut = malloc(len ? len : 1);
		int rc;

		if (!cut) {
			bad++;
			break;
		}
		memcpy(cut, m.buf, len);
		rc = probe_buf(cut, len, &s, &ai);
		if (rc == 0) {
			recognised++;
			if (!first_ok)
				first_ok = len;
			if (ai.seconds < 0 || ai.seconds > 3.5 || (len <= 44 && ai.seconds != 0) ||
			    strcmp(ai.format, "WAV PCM16 8000Hz mono") != 0)
				bad++;
		} else if (rc != -ENODATA || !info_is_zero(&ai)) {
			bad++;
		}
		free(cut);
	}
	CHECK(bad == 0, "WAV cut at 0..200 bytes: 0 or -ENODATA each time, sane values");
	/* libsndfile forgives a cut inside the data chunk's header (the
	 * length then is 0 s), but not one before the fmt chunk is whole. */
	CHECK(recognised > 0 && first_ok >= 36, "WAV cut before its fmt chunk ends: -ENODATA");

	/* Cut in the middle of the samples: the header's promise is larger
	 * than the content; the duration is what is there. */
	{
		size_t len = 44 + 2 * 8000; /* one second of samples */
		int rc = probe_buf(m.buf, len, &s, &ai);
		char what[120];

		snprintf(what, sizeof what, "WAV cut after 1 s of 3.5: rc %d, %.3f s", rc, ai.seconds);
		CHECK(rc == 0 && near(ai.seconds, 1.0, 0.01), what);
	}

	/* The callback hits the end before the size it was announced with. */
	{
		struct src s2 = { .buf = m.buf, .len = 20 };
		int rc = audio_probe(src_read, &s2, (uint64_t)m.len, &ai);

		CHECK(rc == -ENODATA, "content shorter than its size: -ENODATA");
	}
	free(m.buf);
}

/* A read error is reported as itself, not hidden as "not audio". */
static void test_read_error(void)
{
	struct memfile m;
	struct audio_info ai;
	char what[80];

	if (make_audio(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0) < 0) {
		CHECK(0, "libsndfile writes the WAV for read errors");
		free(m.buf);
		return;
	}
	/* libsndfile reads only the 44-byte header of this file at open. */
	for (uint64_t at = 1; at < 44; at *= 2) {
		struct src s = { .buf = m.buf, .len = (size_t)m.len, .fail_at = at };
		int rc;

		memset(&ai, 0x55, sizeof ai);
		rc = audio_probe(src_read, &s, s.len, &ai);
		snprintf(what, sizeof what, "read fails from byte %llu: -EIO (rc %d)",
		         (unsigned long long)at, rc);
		CHECK(rc == -EIO && info_is_zero(&ai), what);
	}
	free(m.buf);
}

int main(void)
{
	for (size_t i = 0; i < sizeof knowns / sizeof knowns[0]; i++)
		test_known(&knowns[i]);
	test_text();
	test_garbage();
	test_truncated();
	test_read_error();
	return check_done();
}
