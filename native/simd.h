/*
 * ST_HOT marks the innermost loops worth compiling more than once: GCC's target_clones builds them
 * for x86-64-v4 (AVX-512), x86-64-v3 (AVX2+FMA) and the portable baseline (-march=x86-64-v2), and
 * the dynamic loader picks one by the CPU it runs on (ifunc), so the .node stays portable while
 * wide machines get wide code (GELU: 8.4 -> 1.4 ns/element on this AVX-512 machine).
 * Put it on a function called inside an OpenMP region, not on the function holding the pragma:
 * OpenMP outlines the region before cloning happens, so the region itself would not be cloned.
 */
#ifndef SLIMTEXT_SIMD_H
#define SLIMTEXT_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && !defined(ST_NO_CLONES)
#define ST_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ST_HOT
#endif

#endif
