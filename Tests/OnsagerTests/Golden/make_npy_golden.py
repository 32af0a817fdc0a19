"""Golden .npy files for Onsager's NPY reader and writer, written by numpy.save and stored in
npy.json as base64 with the values they hold (row-major, as float64) and their shapes.
"read" cases exercise the reader (dtypes, byte orders, Fortran order, 0-d, empty); "write" cases
are arrays Onsager writes and must match byte for byte. Run here: python3 make_npy_golden.py.
CI reads the committed JSON and never runs this script."""
import base64, io, json
import numpy as np

def npy(a):
    b = io.BytesIO(); np.save(b, a, allow_pickle=False); return base64.b64encode(b.getvalue()).decode()

base = np.array([[0.5, -1.25, 3.0], [1e-7, 2.5e10, -0.0]])
read = {
    "f8_2d": base, "f4_2d": base.astype(np.float32), "f8_big_endian": base.astype(">f8"),
    "f8_fortran": np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5),
    "i4": np.array([[-3, 7], [2147483647, -2147483648]], dtype=np.int32), "i8_1d": np.array([-(2**40), 5, 0], dtype=np.int64),
    "i1": np.array([-128, -1, 127], dtype=np.int8), "u1": np.array([0, 200, 255], dtype=np.uint8),
    "u2_big_endian": np.array([1, 65535], dtype=">u2"), "bool": np.array([True, False, True]),
    "scalar_0d": np.array(3.25), "empty_0x3": np.zeros((0, 3)),
}
write = {"f4_2d": base.astype(np.float32), "f8_1d": np.linspace(-1, 1, 5), "f8_0d": np.array(2.5), "f4_empty_0x3": np.zeros((0, 3), dtype=np.float32),
         "f8_3d": np.arange(60, dtype=np.float64).reshape(3, 4, 5) / 7}
out = {"generator": "make_npy_golden.py (numpy %s)" % np.__version__,
       "read": {k: {"npy": npy(v), "shape": list(v.shape), "values": np.asarray(v, dtype=np.float64).ravel(order="C").tolist()} for k, v in read.items()},
       "write": {k: {"npy": npy(v), "shape": list(v.shape), "dtype": str(v.dtype), "values": np.asarray(v, dtype=np.float64).ravel().tolist()} for k, v in write.items()}}
json.dump(out, open("npy.json", "w"), indent=1)
