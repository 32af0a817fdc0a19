// In-register transposes of a VL x VL block held as VL vectors r[0..VL-1], for VL = 2, 4, 8, 16.
// log2(VL) stages; stage s exchanges bit s of the row and column indices: rows i and i+s (bit s of
// i clear) swap the elements whose column has bit s different from the row's. After every stage
// element (i, j) sits at (j, i). Two-source shuffles with constant indices, so each stage is a
// handful of permute instructions on any ISA. (Index lists written out by the formula
//   lo[j] = j & s ? VL + j - s : j,   hi[j] = j & s ? VL + j : j + s.)
#ifndef ONSAGER_TRANSPOSE_H
#define ONSAGER_TRANSPOSE_H
#define ONSAGER_UNPAREN(...) __VA_ARGS__
#define ONSAGER_TSTAGE(r, VL, S, LO, HI)                                                            \
    _Pragma("clang loop unroll(full)")                                                              \
    for (int i_ = 0; i_ < VL; i_++)                                                                 \
        if (!(i_ & S)) {                                                                            \
            __typeof__(r[0]) a_ = r[i_], b_ = r[i_ + S];                                            \
            r[i_] = __builtin_shufflevector(a_, b_, ONSAGER_UNPAREN LO);                            \
            r[i_ + S] = __builtin_shufflevector(a_, b_, ONSAGER_UNPAREN HI);                        \
        }

#define ONSAGER_TRANSPOSE_2(r)                                                                      \
    ONSAGER_TSTAGE(r, 2, 1, (0, 2), (1, 3))

#define ONSAGER_TRANSPOSE_4(r)                                                                      \
    ONSAGER_TSTAGE(r, 4, 1, (0, 4, 2, 6), (1, 5, 3, 7))                                             \
    ONSAGER_TSTAGE(r, 4, 2, (0, 1, 4, 5), (2, 3, 6, 7))

#define ONSAGER_TRANSPOSE_8(r)                                                                      \
    ONSAGER_TSTAGE(r, 8, 1, (0, 8, 2, 10, 4, 12, 6, 14), (1, 9, 3, 11, 5, 13, 7, 15))               \
    ONSAGER_TSTAGE(r, 8, 2, (0, 1, 8, 9, 4, 5, 12, 13), (2, 3, 10, 11, 6, 7, 14, 15))               \
    ONSAGER_TSTAGE(r, 8, 4, (0, 1, 2, 3, 8, 9, 10, 11), (4, 5, 6, 7, 12, 13, 14, 15))

#define ONSAGER_TRANSPOSE_16(r)                                                                     \
    ONSAGER_TSTAGE(r, 16, 1, (0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30), (1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31)) \
    ONSAGER_TSTAGE(r, 16, 2, (0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29), (2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)) \
    ONSAGER_TSTAGE(r, 16, 4, (0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27), (4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31)) \
    ONSAGER_TSTAGE(r, 16, 8, (0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), (8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))

#endif
