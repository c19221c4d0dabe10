/* floattest prints the bits of float and double computations on its two
 * arguments, one "name hex" a line. The test computes the same in Go on the
 * host and compares: on a soft-float target every operation here goes
 * through libgcc's soft-fp routines (or musl's software sqrt), so a
 * hard-float libgcc or a stray FPU instruction shows as a wrong line or a
 * trap under qemu -cpu 24Kc. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void d(const char *name, double x) {
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	printf("%s %016llx\n", name, (unsigned long long)u);
}

static void f(const char *name, float x) {
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	printf("%s %08lx\n", name, (unsigned long)u);
}

static void i(const char *name, long long x) {
	printf("%s %lld\n", name, x);
}

int main(int argc, char **argv) {
	char buf[64];
	if (argc != 3) {
		fprintf(stderr, "usage: floattest A B\n");
		return 2;
	}
	double a = strtod(argv[1], 0), b = strtod(argv[2], 0);
	float fa = (float)a, fb = (float)b;
	d("add", a + b);
	d("sub", a - b);
	d("mul", a * b);
	d("div", a / b);
	d("neg", -a);
	d("sqrt", sqrt(a));
	d("widen", (double)fa);
	d("fromint", (double)(long long)(b * 1000));
	d("fromuint", (double)(unsigned)(a * 1000));
	f("addf", fa + fb);
	f("subf", fa - fb);
	f("mulf", fa * fb);
	f("divf", fa / fb);
	f("sqrtf", sqrtf(fa));
	f("fromintf", (float)(int)(b * 7));
	i("toint", (long long)(a * 1e6));
	i("toint32", (int)(b * -1000.5));
	i("less", a < b);
	i("equal", fa == (float)a);
	/* strtod and printf of doubles, which musl does in software too. */
	snprintf(buf, sizeof buf, "%.17g", a * b);
	d("roundtrip", strtod(buf, 0));
	return 0;
}
