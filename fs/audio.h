/*
 * audio: what libsndfile can tell about a file's content — container,
 * encoding, sample rate, channels and duration — read through pread-like
 * access supplied by the caller (in recfs: the decrypted content of an
 * object), so no plaintext copy ever reaches a disk. Only this module
 * knows libsndfile.
 */
#ifndef RECFS_AUDIO_H
#define RECFS_AUDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* libsndfile may read at most this many bytes while it recognises a file.
 * WAV, AU, AIFF and their kin need a few hundred; anything that would make
 * it read more (a decoder scanning a large file) counts as not recognised,
 * so a probe never costs more than this. */
#define AUDIO_PROBE_READ_BYTES (1024 * 1024)

#define AUDIO_FORMAT_BYTES 64

struct audio_info {
	double seconds;                  /* frames / sample rate */
	char format[AUDIO_FORMAT_BYTES]; /* e.g. "WAV PCM16 8000Hz mono" */
};

/* Read up to len bytes of the content at off into buf, like pread(2):
 * the count read (0 at or past the end), or -errno. Short reads are fine. */
typedef ssize_t (*audio_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* Describe content of size bytes, read only through rd(ctx, ...).
 *
 * 0 and *out filled when libsndfile recognises the content as audio;
 * -ENODATA when it does not (text, garbage, truncated headers, formats
 * that cannot be recognised within AUDIO_PROBE_READ_BYTES) — *out is then
 * zeroed; the first -errno rd returned when reading failed (e.g. -EIO for
 * a damaged block), whatever libsndfile concluded.
 *
 * format is "<container> <encoding> <rate>Hz <channels>", where container
 * is WAV, AIFF, AU, RAW, W64, RF64, CAF, FLAC, OGG, ...; encoding PCM8,
 * PCM16, PCM24, PCM32, FLOAT, DOUBLE, PCMU (G.711 u-law), PCMA (G.711
 * a-law), GSM610, IMA-ADPCM, MS-ADPCM, G721, ...; channels "mono",
 * "stereo" or "N ch".
 *
 * Thread safety: concurrent calls are safe as long as each rd/ctx pair is
 * used by one call at a time. (libsndfile stores the error of a failed
 * open in one global int that concurrent failures overwrite; this module
 * never reads it.) */
int audio_probe(audio_read_fn rd, void *ctx, uint64_t size, struct audio_info *out);

#endif
