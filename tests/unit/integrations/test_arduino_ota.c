/* Unit tests of the Arduino .ota header check (arduino_ota_check): a file as
 * arduino-cloud-cli's encoder writes it passes and yields its magic number; a bare
 * binary, a cut file, a corrupted byte and a file no longer than the header fail, each
 * with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "integrations/providers/arduino.h"

/* An .ota file with the payload "123456789" (the CRC filled in by put_crc). */
static const unsigned char VECTOR[] = {
	/* LENGTH = 21 (the bytes after the CRC), CRC32 of those 21 bytes, little-endian */
	21, 0, 0, 0, 0, 0, 0, 0,
	/* MAGIC 0x23418057 (NANO_33_IOT), VERSION (8 bytes), payload "123456789" */
	0x57, 0x80, 0x41, 0x23, 0, 0, 0, 0, 0, 0, 0, 0x40, '1', '2', '3', '4', '5', '6', '7', '8', '9'};

static void put_crc(unsigned char *f, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 8; i < n; i++) {
		c ^= f[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	c = ~c;
	for (int i = 0; i < 4; i++)
		f[4 + i] = (unsigned char)(c >> (8 * i));
}

static void test_well_formed_file_passes(void **state)
{
	(void)state;
	unsigned char f[sizeof(VECTOR)];
	memcpy(f, VECTOR, sizeof(f));
	put_crc(f, sizeof(f));
	uint32_t magic = 0;
	assert_null(arduino_ota_check(f, sizeof(f), &magic));
	assert_int_equal(magic, 0x23418057u);
	assert_null(arduino_ota_check(f, sizeof(f), NULL));
}

static void test_known_crc_vector(void **state)
{
	(void)state;
	/* The helper (and so the files the other tests build) agrees with the standard's
	 * check value: CRC-32 of "123456789" is 0xCBF43926. */
	unsigned char g[8 + 9] = {0};
	memcpy(g + 8, "123456789", 9);
	put_crc(g, sizeof(g));
	assert_int_equal(g[4], 0x26);
	assert_int_equal(g[5], 0x39);
	assert_int_equal(g[6], 0xF4);
	assert_int_equal(g[7], 0xCB);
	/* 17 bytes is too short for a header and a payload, whatever its CRC. */
	assert_non_null(arduino_ota_check(g, sizeof(g), NULL));
}

static void test_bad_files_fail_with_a_reason(void **state)
{
	(void)state;
	unsigned char f[sizeof(VECTOR)];
	memcpy(f, VECTOR, sizeof(f));
	put_crc(f, sizeof(f));
	const char *why = arduino_ota_check(f, sizeof(f) - 1, NULL);
	assert_non_null(why);
	assert_non_null(strstr(why, "length"));
	f[sizeof(f) - 1] ^= 0xFF;
	why = arduino_ota_check(f, sizeof(f), NULL);
	assert_non_null(why);
	assert_non_null(strstr(why, "CRC32"));
	assert_non_null(strstr(arduino_ota_check(f, 20, NULL), "header"));
	assert_non_null(arduino_ota_check(f, 0, NULL));
	static const unsigned char bare[64] = {0x00, 0x80, 0x00, 0x20, 0x2d, 0x01};
	assert_non_null(arduino_ota_check(bare, sizeof(bare), NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_file_passes),
		cmocka_unit_test(test_known_crc_vector),
		cmocka_unit_test(test_bad_files_fail_with_a_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
