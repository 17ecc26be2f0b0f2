/*
 * audio: libsndfile over a caller's pread-like callback. libsndfile's
 * virtual I/O (SF_VIRTUAL_IO) is adapted to the callback by struct
 * audio_vio, which also caps how much libsndfile may read and keeps the
 * first read error, so a damaged block is reported as such and not as
 * "not audio". Opened read-only: the write hook always fails. The only
 * file that includes <sndfile.h>; its codes become names here and
 * nowhere else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sndfile.h>

#include "audio.h"

struct audio_vio {
	audio_read_fn rd;
	void *ctx;
	sf_count_t size; /* content size, clamped to what sf_count_t holds */
	sf_count_t pos;
	sf_count_t budget; /* bytes libsndfile may still read */
	int over_budget;
	int err; /* first -errno from rd, 0 if none */
};

struct audio_name {
	int code;
	const char *name;
};

static const struct audio_name audio_containers[] = {
	{ SF_FORMAT_WAV, "WAV" },     { SF_FORMAT_WAVEX, "WAV" },
	{ SF_FORMAT_AIFF, "AIFF" },   { SF_FORMAT_AU, "AU" },
	{ SF_FORMAT_RAW, "RAW" },     { SF_FORMAT_PAF, "PAF" },
	{ SF_FORMAT_SVX, "SVX" },     { SF_FORMAT_NIST, "NIST" },
	{ SF_FORMAT_VOC, "VOC" },     { SF_FORMAT_IRCAM, "IRCAM" },
	{ SF_FORMAT_W64, "W64" },     { SF_FORMAT_MAT4, "MAT4" },
	{ SF_FORMAT_MAT5, "MAT5" },   { SF_FORMAT_PVF, "PVF" },
	{ SF_FORMAT_XI, "XI" },       { SF_FORMAT_HTK, "HTK" },
	{ SF_FORMAT_SDS, "SDS" },     { SF_FORMAT_AVR, "AVR" },
	{ SF_FORMAT_SD2, "SD2" },     { SF_FORMAT_FLAC, "FLAC" },
	{ SF_FORMAT_CAF, "CAF" },     { SF_FORMAT_WVE, "WVE" },
	{ SF_FORMAT_OGG, "OGG" },     { SF_FORMAT_MPC2K, "MPC2K" },
	{ SF_FORMAT_RF64, "RF64" },   { SF_FORMAT_MPEG, "MPEG" },
};

/* Names a telephony admin knows: PCMU/PCMA as in RTP payload names. */
static const struct audio_name audio_encodings[] = {
	{ SF_FORMAT_PCM_S8, "PCM8" },
	{ SF_FORMAT_PCM_U8, "PCM8" },
	{ SF_FORMAT_PCM_16, "PCM16" },
	{ SF_FORMAT_PCM_24, "PCM24" },
	{ SF_FORMAT_PCM_32, "PCM32" },
	{ SF_FORMAT_FLOAT, "FLOAT" },
	{ SF_FORMAT_DOUBLE, "DOUBLE" },
	{ SF_FORMAT_ULAW, "PCMU" },
	{ SF_FORMAT_ALAW, "PCMA" },
	{ SF_FORMAT_IMA_ADPCM, "IMA-ADPCM" },
	{ SF_FORMAT_MS_ADPCM, "MS-ADPCM" },
	{ SF_FORMAT_GSM610, "GSM610" },
	{ SF_FORMAT_VOX_ADPCM, "VOX-ADPCM" },
	{ SF_FORMAT_NMS_ADPCM_16, "NMS-ADPCM16" },
	{ SF_FORMAT_NMS_ADPCM_24, "NMS-ADPCM24" },
	{ SF_FORMAT_NMS_ADPCM_32, "NMS-ADPCM32" },
	{ SF_FORMAT_G721_32, "G721" },
	{ SF_FORMAT_G723_24, "G723-24" },
	{ SF_FORMAT_G723_40, "G723-40" },
	{ SF_FORMAT_DWVW_12, "DWVW12" },
	{ SF_FORMAT_DWVW_16, "DWVW16" },
	{ SF_FORMAT_DWVW_24, "DWVW24" },
	{ SF_FORMAT_DWVW_N, "DWVW" },
	{ SF_FORMAT_DPCM_8, "DPCM8" },
	{ SF_FORMAT_DPCM_16, "DPCM16" },
	{ SF_FORMAT_VORBIS, "VORBIS" },
	{ SF_FORMAT_OPUS, "OPUS" },
	{ SF_FORMAT_ALAC_16, "ALAC16" },
	{ SF_FORMAT_ALAC_20, "ALAC20" },
	{ SF_FORMAT_ALAC_24, "ALAC24" },
	{ SF_FORMAT_ALAC_32, "ALAC32" },
	{ SF_FORMAT_MPEG_LAYER_I, "MP1" },
	{ SF_FORMAT_MPEG_LAYER_II, "MP2" },
	{ SF_FORMAT_MPEG_LAYER_III, "MP3" },
};

#define AUDIO_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *audio_name_of(const struct audio_name *t, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

/* ---- SF_VIRTUAL_IO hooks ---- */

static sf_count_t vio_get_filelen(void *user)
{
	const struct audio_vio *v = user;

	return v->size;
}

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
	struct audio_vio *v = user;
	sf_count_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = v->pos;
		break;
	case SEEK_END:
		base = v->size;
		break;
	default:
		return -1;
	}
	/* Both operands are within [0, INT64_MAX] or offset is negative:
	 * only a positive offset can overflow. */
	if (offset > 0 && base > INT64_MAX - offset)
		return -1;
	if (base + offset < 0)
		return -1;
	/* Past the end is allowed, as with lseek; reads there return 0. */
	v->pos = base + offset;
	return v->pos;
}

/* Read what the callback gives up to count, the end of the content or
 * the budget. libsndfile takes a short count as end of file, so an error
 * ends the read too; it is kept in v->err for audio_probe to report. */
static sf_count_t vio_read(void *ptr, sf_count_t count, void *user)
{
	struct audio_vio *v = user;
	sf_count_t want, done = 0;

	if (v->err || count <= 0 || v->pos >= v->size)
		return 0;
	want = count < v->size - v->pos ? count : v->size - v->pos;
	if (want > v->budget) {
		v->over_budget = 1;
		want = v->budget;
	}
	while (done < want) {
		ssize_t r = v->rd(v->ctx, (char *)ptr + done, (size_t)(want - done),
		                  (uint64_t)(v->pos + done));
		if (r < 0) {
			v->err = (int)r;
			break;
		}
		if (r == 0) /* the content is shorter than announced */
			break;
		done += r;
	}
	v->pos += done;
	v->budget -= done;
	return done;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user)
{
	(void)ptr;
	(void)count;
	(void)user;
	return 0; /* opened for reading only */
}

static sf_count_t vio_tell(void *user)
{
	const struct audio_vio *v = user;

	return v->pos;
}

/* ---- probe ---- */

/* Fill out from what libsndfile found: 0, or -ENODATA for values no
 * audio file has (no rate, no channels, unknown length, unnamed codes). */
static int audio_describe(const SF_INFO *info, struct audio_info *out)
{
	const char *container, *encoding;
	char chans[16];
	int n;

	container = audio_name_of(audio_containers, AUDIO_NELEM(audio_containers),
	                          info->format & SF_FORMAT_TYPEMASK);
	encoding = audio_name_of(audio_encodings, AUDIO_NELEM(audio_encodings),
	                         info->format & SF_FORMAT_SUBMASK);
	/* SF_COUNT_MAX is libsndfile's "length unknown". */
	if (!container || !encoding || info->samplerate <= 0 ||
	    info->channels <= 0 || info->frames < 0 || info->frames == SF_COUNT_MAX)
		return -ENODATA;

	if (info->channels == 1)
		snprintf(chans, sizeof chans, "mono");
	else if (info->channels == 2)
		snprintf(chans, sizeof chans, "stereo");
	else
		snprintf(chans, sizeof chans, "%d ch", info->channels);
	n = snprintf(out->format, sizeof out->format, "%s %s %dHz %s",
	             container, encoding, info->samplerate, chans);
	if (n < 0 || (size_t)n >= sizeof out->format)
		return -ENODATA; /* cannot happen with the names above */
	out->seconds = (double)info->frames / info->samplerate;
	return 0;
}

int audio_probe(audio_read_fn rd, void *ctx, uint64_t size, struct audio_info *out)
{
	SF_VIRTUAL_IO io = {
		.get_filelen = vio_get_filelen,
		.seek = vio_seek,
		.read = vio_read,
		.write = vio_write,
		.tell = vio_tell,
	};
	struct audio_vio v = {
		.rd = rd,
		.ctx = ctx,
		.size = size > INT64_MAX ? INT64_MAX : (sf_count_t)size,
		.budget = AUDIO_PROBE_READ_BYTES,
	};
	SF_INFO info;
	SNDFILE *sf;
	int rc = -ENODATA;

	memset(out, 0, sizeof *out);
	memset(&info, 0, sizeof info); /* format 0: let libsndfile recognise it */
	sf = sf_open_virtual(&io, SFM_READ, &info, &v);
	if (v.err) {
		rc = v.err;
		goto out;
	}
	if (!sf || v.over_budget)
		goto out;
	rc = audio_describe(&info, out);
out:
	if (sf)
		sf_close(sf);
	if (rc)
		memset(out, 0, sizeof *out);
	return rc;
}
