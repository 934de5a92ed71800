package dev.systole.host.graph;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Element types and shapes of every op's outputs from those of its inputs. Types need no shapes
 * and are checked when the graph is built; shapes need concrete input sizes and are computed for
 * given inputs (and at build time when the model fixes every input dimension).
 *
 * <p>A few ops take shapes as values: Reshape's target shape, the axes of Squeeze and Unsqueeze
 * from opset 13. Models exported from PyTorch often compute those at run time from the input's
 * shape (Shape, Gather, Unsqueeze, Concat), so this also carries the values of small int64
 * tensors through those ops, starting from initializers, Constant nodes and Shape, and the target
 * of such a Reshape is known before anything runs.
 */
final class ShapeInference {
  /** Values are carried only for tensors this small: shapes and axes, not weights. */
  private static final long MAX_VALUE_ELEMENTS = 1024;

  private static final Set<DType> FLOAT = EnumSet.of(DType.FLOAT32);
  private static final Set<DType> QUANT = EnumSet.of(DType.INT8, DType.UINT8);
  private static final Set<DType> INDEX = EnumSet.of(DType.INT32, DType.INT64);
  private static final Set<DType> NUMERIC =
      EnumSet.of(DType.FLOAT32, DType.INT8, DType.UINT8, DType.INT32, DType.INT64);
  private static final Set<DType> ANY = EnumSet.allOf(DType.class);

  private ShapeInference() {}

  // ---------------------------------------------------------------------------------- types

  /**
   * The element types of {@code n}'s outputs, given those of its inputs (null for an absent
   * optional input).
   *
   * @throws ModelException if an input's type is not one the op accepts
   */
  static DType[] dtypes(Node n, DType[] in) {
    int outs = n.outputs().size();
    DType[] out = new DType[outs];
    switch (n.opType()) {
      case "Conv", "MatMul", "Gemm", "BatchNormalization", "AveragePool", "GlobalAveragePool",
          "Softmax", "Sigmoid" -> {
        for (int i = 0; i < in.length; i++) {
          need(n, in, i, FLOAT);
        }
        out[0] = DType.FLOAT32;
      }
      case "Relu" -> out[0] = need(n, in, 0,
          EnumSet.of(DType.FLOAT32, DType.INT8, DType.INT32, DType.INT64));
      case "Add", "Sub", "Mul", "Div" -> out[0] = same(n, in, 0, 1, NUMERIC);
      case "MaxPool" -> {
        out[0] = need(n, in, 0, EnumSet.of(DType.FLOAT32, DType.INT8, DType.UINT8));
        if (outs > 1) {
          out[1] = DType.INT64;
        }
      }
      case "Flatten", "Identity", "Transpose" -> out[0] = need(n, in, 0, ANY);
      case "Reshape" -> {
        need(n, in, 1, EnumSet.of(DType.INT64));
        out[0] = need(n, in, 0, ANY);
      }
      case "Squeeze", "Unsqueeze" -> {
        need(n, in, 1, EnumSet.of(DType.INT64));
        out[0] = need(n, in, 0, ANY);
      }
      case "Concat" -> {
        for (int i = 1; i < in.length; i++) {
          same(n, in, 0, i, ANY);
        }
        out[0] = need(n, in, 0, ANY);
      }
      case "Clip" -> {
        out[0] = need(n, in, 0, NUMERIC);
        same(n, in, 0, 1, NUMERIC);
        same(n, in, 0, 2, NUMERIC);
      }
      case "Dropout" -> {
        out[0] = need(n, in, 0, FLOAT);
        need(n, in, 1, FLOAT);
        need(n, in, 2, EnumSet.of(DType.BOOL));
        if (outs > 1) {
          out[1] = DType.BOOL;
        }
      }
      case "Constant" -> out[0] = constantValue(n).dtype();
      case "Shape" -> {
        need(n, in, 0, ANY);
        out[0] = DType.INT64;
      }
      case "Gather" -> {
        need(n, in, 1, INDEX);
        out[0] = need(n, in, 0, ANY);
      }
      case "QuantizeLinear" -> {
        need(n, in, 0, FLOAT);
        need(n, in, 1, FLOAT);
        out[0] = in.length > 2 && in[2] != null ? need(n, in, 2, QUANT) : DType.UINT8;
      }
      case "DequantizeLinear" -> {
        need(n, in, 0, EnumSet.of(DType.INT8, DType.UINT8, DType.INT32));
        need(n, in, 1, FLOAT);
        same(n, in, 0, 2, ANY);
        out[0] = DType.FLOAT32;
      }
      case "MatMulInteger", "ConvInteger" -> {
        need(n, in, 0, QUANT);
        need(n, in, 1, QUANT);
        same(n, in, 0, 2, QUANT);
        same(n, in, 1, 3, QUANT);
        out[0] = DType.INT32;
      }
      case "QLinearMatMul", "QLinearConv" -> {
        need(n, in, 0, QUANT);
        need(n, in, 1, FLOAT);
        same(n, in, 0, 2, QUANT);
        need(n, in, 3, QUANT);
        need(n, in, 4, FLOAT);
        same(n, in, 3, 5, QUANT);
        need(n, in, 6, FLOAT);
        out[0] = need(n, in, 7, QUANT);
        need(n, in, 8, EnumSet.of(DType.INT32));
      }
      default -> throw new IllegalStateException("no type rule for op " + n.opType());
    }
    return out;
  }

  /** Checks input {@code i}, if present, is of one of {@code allowed}; returns its type. */
  private static DType need(Node n, DType[] in, int i, Set<DType> allowed) {
    if (i >= in.length || in[i] == null) {
      return null;
    }
    if (!allowed.contains(in[i])) {
      throw ModelException.atNode(n, String.format("input %d '%s' is %s (expected %s)",
          i, n.input(i), in[i].label(), labels(allowed)));
    }
    return in[i];
  }

  /** Checks inputs {@code i} and {@code j}, where present, have one type from {@code allowed}. */
  private static DType same(Node n, DType[] in, int i, int j, Set<DType> allowed) {
    DType a = need(n, in, i, allowed);
    DType b = need(n, in, j, allowed);
    if (a != null && b != null && a != b) {
      throw ModelException.atNode(n, String.format(
          "input %d '%s' is %s but input %d '%s' is %s (expected the same type)",
          i, n.input(i), a.label(), j, n.input(j), b.label()));
    }
    return a;
  }

  private static String labels(Set<DType> types) {
    if (types.size() == DType.values().length) {
      return "any type";
    }
    StringBuilder sb = new StringBuilder();
    for (DType t : types) {
      sb.append(sb.length() == 0 ? "" : " or ").append(t.label());
    }
    return sb.toString();
  }

  /**
   * The tensor a Constant node makes, from whichever of its value attributes it has.
   *
   * @throws ModelException unless it has exactly one
   */
  static Tensor constantValue(Node n) {
    if (n.attributes().size() != 1) {
      throw ModelException.atNode(n, "has attributes " + n.attributes().keySet()
          + " (expected exactly one of value, value_float, value_floats, value_int, value_ints)");
    }
    String name = n.attributes().keySet().iterator().next();
    Attribute a = n.attributes().get(name);
    return switch (name) {
      case "value" -> a.asTensor();
      case "value_float" -> Tensor.ofFloat32(new float[] {a.asFloat()});
      case "value_floats" -> Tensor.ofFloat32(a.asFloats(), a.asFloats().length);
      case "value_int" -> Tensor.ofInt64(new long[] {a.asInt()});
      case "value_ints" -> Tensor.ofInt64(a.asInts(), a.asInts().length);
      default -> throw ModelException.atNode(n, "attribute '" + name + "' is not supported");
    };
  }

  // --------------------------------------------------------------------------------- shapes

  /**
   * The shapes of {@code n}'s outputs from its inputs' shapes {@code in} (null for an absent
   * input or, when not {@code strict}, one not known), and the values of those outputs that can
   * be computed from the known input values {@code vals} (entries may be null). Returns null
   * entries for what cannot be known; when {@code strict}, a needed value that is not known is an
   * error instead.
   */
  static long[][] shapes(Node n, long[][] in, Tensor[] vals, boolean strict, Tensor[] outVals) {
    long[][] out = new long[n.outputs().size()][];
    if (n.opType().equals("Constant")) {
      Tensor c = constantValue(n);
      out[0] = c.shape();
      outVals[0] = small(c);
      return out;
    }
    for (int i = 0; i < n.inputs().size(); i++) {
      if (n.hasInput(i) && in[i] == null) {
        return out;
      }
    }
    long[] x = in[0];
    switch (n.opType()) {
      case "Conv", "ConvInteger", "QLinearConv" -> out[0] = conv(n, in);
      case "MaxPool", "AveragePool" -> {
        out[0] = pool(n, x);
        if (out.length > 1) {
          out[1] = out[0];
        }
      }
      case "GlobalAveragePool" -> {
        rankAtLeast(n, 0, x, 3);
        out[0] = x.clone();
        Arrays.fill(out[0], 2, x.length, 1);
      }
      case "MatMul", "MatMulInteger" -> {
        out[0] = matmul(n, x, in[1]);
        if (n.opType().equals("MatMulInteger")) {
          long[] a = x.length == 1 ? new long[] {1, x[0]} : x;
          perAxis(n, in, 2, a[a.length - 2], "rows of A");
          long[] b = in[1];
          perAxis(n, in, 3, b.length == 1 ? 1 : b[b.length - 1], "columns of B");
        }
      }
      case "QLinearMatMul" -> {
        out[0] = matmul(n, x, in[3]);
        long[] a = x.length == 1 ? new long[] {1, x[0]} : x;
        long[] b = in[3];
        long rows = a[a.length - 2];
        long cols = b.length == 1 ? 1 : b[b.length - 1];
        perAxis(n, in, 1, rows, "rows of A");
        perAxis(n, in, 2, rows, "rows of A");
        perAxis(n, in, 4, cols, "columns of B");
        perAxis(n, in, 5, cols, "columns of B");
        perAxis(n, in, 6, rows, "rows of Y");
        perAxis(n, in, 7, rows, "rows of Y");
      }
      case "Gemm" -> out[0] = gemm(n, in);
      case "BatchNormalization" -> {
        rankAtLeast(n, 0, x, 2);
        for (int i = 1; i < 5; i++) {
          exactly(n, i, in[i], new long[] {x[1]}, "one value per channel");
        }
        out[0] = x.clone();
      }
      case "Relu", "Sigmoid", "Identity" -> {
        out[0] = x.clone();
        outVals[0] = n.opType().equals("Identity") ? vals[0] : null;
      }
      case "Softmax" -> {
        axis(n, n.intAttr("axis"), x.length, false);
        out[0] = x.clone();
      }
      case "Dropout" -> {
        for (int i = 1; i < n.inputs().size(); i++) {
          scalar(n, in, i);
        }
        out[0] = x.clone();
        if (out.length > 1) {
          out[1] = x.clone();
        }
      }
      case "Clip" -> {
        for (int i = 1; i < n.inputs().size(); i++) {
          scalar(n, in, i);
        }
        out[0] = x.clone();
      }
      case "Add", "Sub", "Mul", "Div" -> {
        out[0] = broadcast(n, x, in[1]);
        outVals[0] = arithmetic(n, vals[0], vals[1], out[0]);
      }
      case "Flatten" -> {
        int axis = axis(n, n.intAttr("axis"), x.length, true);
        out[0] = new long[] {product(x, 0, axis), product(x, axis, x.length)};
        outVals[0] = reshaped(vals[0], out[0]);
      }
      case "Reshape" -> {
        Tensor target = needValue(n, 1, vals, strict);
        if (target != null) {
          out[0] = reshape(n, x, target.toLongArray(),
              n.attribute("allowzero").map(a -> a.asInt() == 1).orElse(false));
          outVals[0] = reshaped(vals[0], out[0]);
        }
      }
      case "Transpose" -> out[0] = transpose(n, x);
      case "Concat" -> {
        out[0] = concat(n, in);
        outVals[0] = concatValues(n, vals, in, out[0]);
      }
      case "Squeeze", "Unsqueeze" -> {
        long[] axes;
        if (n.version() < 13) {
          axes = n.intsAttr("axes", null);
        } else if (n.hasInput(1)) {
          Tensor t = needValue(n, 1, vals, strict);
          if (t == null) {
            return out;
          }
          axes = t.toLongArray();
        } else {
          axes = null;
        }
        out[0] = n.opType().equals("Squeeze") ? squeeze(n, x, axes) : unsqueeze(n, x, axes);
        outVals[0] = reshaped(vals[0], out[0]);
      }
      case "Shape" -> {
        long[] dims = shapeSlice(n, x);
        out[0] = new long[] {dims.length};
        outVals[0] = Tensor.ofInt64(dims, dims.length);
      }
      case "Gather" -> {
        int axis = axis(n, n.intAttr("axis"), x.length, false);
        long[] idx = in[1];
        long[] s = new long[x.length - 1 + idx.length];
        System.arraycopy(x, 0, s, 0, axis);
        System.arraycopy(idx, 0, s, axis, idx.length);
        System.arraycopy(x, axis + 1, s, axis + idx.length, x.length - axis - 1);
        out[0] = s;
        outVals[0] = gatherValues(n, vals[0], vals[1], x, axis, s);
      }
      case "QuantizeLinear", "DequantizeLinear" -> {
        quantParams(n, in, x);
        out[0] = x.clone();
      }
      default -> throw new IllegalStateException("no shape rule for op " + n.opType());
    }
    return out;
  }

  private static Tensor needValue(Node n, int i, Tensor[] vals, boolean strict) {
    if (vals[i] == null && strict) {
      throw ModelException.atNode(n, "input " + i + " '" + n.input(i) + "' is computed from"
          + " run-time data (expected a constant: an initializer, a Constant node, or a shape"
          + " computed from input shapes)");
    }
    return vals[i];
  }

  private static long[] conv(Node n, long[][] in) {
    boolean q = n.opType().equals("QLinearConv");
    long[] x = in[0];
    long[] w = in[q ? 3 : 1];
    rankAtLeast(n, 0, x, 3);
    if (w.length != x.length) {
      throw ModelException.atNode(n, String.format(
          "weights %s have rank %d but the input %s has rank %d (expected equal ranks)",
          Tensor.shapeString(w), w.length, Tensor.shapeString(x), x.length));
    }
    long group = n.intAttr("group");
    long m = w[0];
    if (x[1] != w[1] * group || m % group != 0) {
      throw ModelException.atNode(n, String.format(
          "input %s has %d channels and weights %s with group %d expect %d; %d output channels"
              + " (expected input channels = weights dim 1 x group, and output channels a multiple"
              + " of group)",
          Tensor.shapeString(x), x[1], Tensor.shapeString(w), group, w[1] * group, m));
    }
    long[] kernel = Arrays.copyOfRange(w, 2, w.length);
    n.attribute("kernel_shape").ifPresent(k -> {
      if (!Arrays.equals(k.asInts(), kernel)) {
        throw ModelException.atNode(n, "kernel_shape " + k + " but the weights are "
            + Tensor.shapeString(w) + " (expected the weights' spatial dimensions)");
      }
    });
    Window win = Window.of(n, Arrays.copyOfRange(x, 2, x.length), kernel);
    if (q) {
      scalar(n, in, 1);
      scalar(n, in, 2);
      perAxis(n, in, 4, m, "output channels");
      perAxis(n, in, 5, m, "output channels");
      scalar(n, in, 6);
      scalar(n, in, 7);
      if (n.hasInput(8)) {
        exactly(n, 8, in[8], new long[] {m}, "one bias per output channel");
      }
    } else if (n.opType().equals("ConvInteger")) {
      scalar(n, in, 2);
      perAxis(n, in, 3, m, "output channels");
    } else if (n.hasInput(2)) {
      exactly(n, 2, in[2], new long[] {m}, "one bias per output channel");
    }
    return spatialShape(x[0], m, win.output());
  }

  private static long[] pool(Node n, long[] x) {
    rankAtLeast(n, 0, x, 3);
    long[] kernel = n.intsAttr("kernel_shape");
    if (kernel.length != x.length - 2) {
      throw ModelException.atNode(n, String.format(
          "kernel_shape has %d values but the input %s has %d spatial axes (expected equal)",
          kernel.length, Tensor.shapeString(x), x.length - 2));
    }
    Window win = Window.of(n, Arrays.copyOfRange(x, 2, x.length), kernel);
    return spatialShape(x[0], x[1], win.output());
  }

  private static long[] spatialShape(long batch, long channels, long[] spatial) {
    long[] s = new long[spatial.length + 2];
    s[0] = batch;
    s[1] = channels;
    System.arraycopy(spatial, 0, s, 2, spatial.length);
    return s;
  }

  /** numpy.matmul's shape rule: 1-D operands promoted, batch dimensions broadcast. */
  private static long[] matmul(Node n, long[] a, long[] b) {
    if (a.length == 0 || b.length == 0) {
      throw ModelException.atNode(n, "an operand is a scalar (expected rank >= 1)");
    }
    long[] a2 = a.length == 1 ? new long[] {1, a[0]} : a;
    long[] b2 = b.length == 1 ? new long[] {b[0], 1} : b;
    long k = a2[a2.length - 1];
    if (k != b2[b2.length - 2]) {
      throw ModelException.atNode(n, String.format(
          "A is %s and B is %s (expected A's last dimension to equal B's %s)",
          Tensor.shapeString(a), Tensor.shapeString(b),
          b.length == 1 ? "only one" : "second to last"));
    }
    long[] batch = broadcast(n, Arrays.copyOf(a2, a2.length - 2), Arrays.copyOf(b2, b2.length - 2));
    int r = batch.length;
    long[] out = Arrays.copyOf(batch, r + 2);
    out[r] = a2[a2.length - 2];
    out[r + 1] = b2[b2.length - 1];
    if (b.length == 1) {
      out = Arrays.copyOf(out, r + 1);
    }
    if (a.length == 1) {
      long[] s = new long[out.length - 1];
      System.arraycopy(out, 0, s, 0, r);
      System.arraycopy(out, r + 1, s, r, out.length - r - 1);
      out = s;
    }
    return out;
  }

  private static long[] gemm(Node n, long[][] in) {
    long[] a = in[0];
    long[] b = in[1];
    if (a.length != 2 || b.length != 2) {
      throw ModelException.atNode(n, String.format(
          "A is %s and B is %s (expected two matrices)",
          Tensor.shapeString(a), Tensor.shapeString(b)));
    }
    boolean ta = n.intAttr("transA") == 1;
    boolean tb = n.intAttr("transB") == 1;
    long m = ta ? a[1] : a[0];
    long k = ta ? a[0] : a[1];
    long kb = tb ? b[1] : b[0];
    long cols = tb ? b[0] : b[1];
    if (k != kb) {
      throw ModelException.atNode(n, String.format(
          "A%s is %s and B%s is %s: inner dimensions %d and %d (expected equal)",
          ta ? "'" : "", Tensor.shapeString(a), tb ? "'" : "", Tensor.shapeString(b), k, kb));
    }
    long[] out = {m, cols};
    if (n.hasInput(2) && !Arrays.equals(broadcast(n, out, in[2]), out)) {
      throw ModelException.atNode(n, String.format(
          "C is %s (expected a shape that broadcasts to the output %s)",
          Tensor.shapeString(in[2]), Tensor.shapeString(out)));
    }
    return out;
  }

  /**
   * NumPy's broadcast of two shapes.
   *
   * @throws ModelException naming the node and both shapes if they do not broadcast
   */
  static long[] broadcast(Node n, long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long da = i < r - a.length ? 1 : a[i - (r - a.length)];
      long db = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (da != db && da != 1 && db != 1) {
        throw ModelException.atNode(n, String.format(
            "shapes %s and %s do not broadcast (axis %d: %d vs %d; expected equal sizes or 1)",
            Tensor.shapeString(a), Tensor.shapeString(b), i, da, db));
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  private static long[] reshape(Node n, long[] x, long[] target, boolean allowZero) {
    long[] s = target.clone();
    int inferred = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == 0 && !allowZero) {
        if (i >= x.length) {
          throw ModelException.atNode(n, String.format("target shape %s copies dimension %d of"
              + " the input %s, which has none", Arrays.toString(target), i,
              Tensor.shapeString(x)));
        }
        s[i] = x[i];
      }
      if (s[i] == -1) {
        if (inferred >= 0) {
          throw ModelException.atNode(n, "target shape " + Arrays.toString(target)
              + " has more than one -1 (expected at most one inferred dimension)");
        }
        inferred = i;
      } else if (s[i] < 0) {
        throw ModelException.atNode(n, "target shape " + Arrays.toString(target)
            + " has " + s[i] + " (expected sizes >= 0, 0 to copy, or one -1)");
      } else {
        known *= s[i];
      }
    }
    long numel = product(x, 0, x.length);
    if (inferred >= 0) {
      if (known == 0 || numel % known != 0) {
        throw reshapeError(n, x, target);
      }
      s[inferred] = numel / known;
    } else if (known != numel) {
      throw reshapeError(n, x, target);
    }
    return s;
  }

  private static ModelException reshapeError(Node n, long[] x, long[] target) {
    return ModelException.atNode(n, String.format(
        "cannot reshape %s (%d elements) to %s (expected as many elements)",
        Tensor.shapeString(x), product(x, 0, x.length), Arrays.toString(target)));
  }

  private static long[] transpose(Node n, long[] x) {
    long[] perm = permutation(n, x.length);
    long[] s = new long[x.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = x[(int) perm[i]];
    }
    return s;
  }

  /**
   * Transpose's {@code perm}, or the reversal of the axes by default.
   *
   * @throws ModelException if it is not a permutation of the input's axes
   */
  static long[] permutation(Node n, int rank) {
    long[] perm = n.intsAttr("perm", null);
    if (perm == null) {
      perm = new long[rank];
      for (int i = 0; i < rank; i++) {
        perm[i] = rank - 1 - i;
      }
    }
    boolean[] seen = new boolean[rank];
    boolean ok = perm.length == rank;
    for (long p : perm) {
      ok &= p >= 0 && p < rank && !seen[(int) p];
      if (ok) {
        seen[(int) p] = true;
      }
    }
    if (!ok) {
      throw ModelException.atNode(n, "perm " + Arrays.toString(perm)
          + " (expected a permutation of 0 to " + (rank - 1) + ")");
    }
    return perm;
  }

  private static long[] concat(Node n, long[][] in) {
    long[] first = in[0];
    int axis = axis(n, n.intAttr("axis"), first.length, false);
    long[] out = first.clone();
    for (int i = 1; i < in.length; i++) {
      long[] s = in[i];
      boolean ok = s.length == first.length;
      for (int d = 0; ok && d < s.length; d++) {
        ok = d == axis || s[d] == first[d];
      }
      if (!ok) {
        throw ModelException.atNode(n, String.format(
            "input %d is %s and input 0 is %s (expected equal shapes except on axis %d)",
            i, Tensor.shapeString(s), Tensor.shapeString(first), axis));
      }
      out[axis] += s[axis];
    }
    return out;
  }

  private static long[] squeeze(Node n, long[] x, long[] axes) {
    boolean[] drop = new boolean[x.length];
    if (axes == null) {
      for (int i = 0; i < x.length; i++) {
        drop[i] = x[i] == 1;
      }
    } else {
      for (long a : axes) {
        int ax = axis(n, a, x.length, false);
        if (x[ax] != 1) {
          throw ModelException.atNode(n, String.format(
              "axis %d of %s has size %d (expected 1 to squeeze it)",
              a, Tensor.shapeString(x), x[ax]));
        }
        drop[ax] = true;
      }
    }
    return Arrays.stream(range(x.length)).filter(i -> !drop[i]).mapToLong(i -> x[i]).toArray();
  }

  private static long[] unsqueeze(Node n, long[] x, long[] axes) {
    if (axes == null) {
      throw ModelException.atNode(n, "has no axes (expected the axes to insert)");
    }
    int r = x.length + axes.length;
    boolean[] inserted = new boolean[r];
    for (long a : axes) {
      int ax = axis(n, a, r, false);
      if (inserted[ax]) {
        throw ModelException.atNode(n, "axes " + Arrays.toString(axes) + " name axis " + ax
            + " twice (expected distinct axes)");
      }
      inserted[ax] = true;
    }
    long[] s = new long[r];
    for (int i = 0, j = 0; i < r; i++) {
      s[i] = inserted[i] ? 1 : x[j++];
    }
    return s;
  }

  private static long[] shapeSlice(Node n, long[] x) {
    int r = x.length;
    long start = n.attribute("start").map(Attribute::asInt).orElse(0L);
    long end = n.attribute("end").map(Attribute::asInt).orElse((long) r);
    start = Math.min(r, Math.max(0, start < 0 ? start + r : start));
    end = Math.min(r, Math.max(0, end < 0 ? end + r : end));
    return end <= start ? new long[0] : Arrays.copyOfRange(x, (int) start, (int) end);
  }

  private static void quantParams(Node n, long[][] in, long[] x) {
    long[] scale = in[1];
    if (scale.length == 0 || (scale.length == 1 && scale[0] == 1)) {
      if (in.length > 2 && in[2] != null && product(in[2], 0, in[2].length) != 1) {
        throw ModelException.atNode(n, "zero point is " + Tensor.shapeString(in[2])
            + " but the scale is one value (expected the same shape)");
      }
      return;
    }
    if (n.version() < 13 || scale.length != 1) {
      throw ModelException.atNode(n, "scale is " + Tensor.shapeString(scale) + " (expected a"
          + " scalar" + (n.version() < 13 ? "" : ", or one value per slice along axis") + ")");
    }
    int axis = axis(n, n.intAttr("axis"), x.length, false);
    exactly(n, 1, scale, new long[] {x[axis]}, "one scale per slice along axis " + axis);
    if (in.length > 2 && in[2] != null) {
      exactly(n, 2, in[2], scale, "the scale's shape");
    }
  }

  /** Input {@code i}, if present, is one value, or one value per {@code count} of {@code what}. */
  private static void perAxis(Node n, long[][] in, int i, long count, String what) {
    if (i >= in.length || in[i] == null || product(in[i], 0, in[i].length) == 1) {
      return;
    }
    exactly(n, i, in[i], new long[] {count}, "a scalar, or one value per " + what);
  }

  private static void scalar(Node n, long[][] in, int i) {
    if (i < in.length && in[i] != null && product(in[i], 0, in[i].length) != 1) {
      throw ModelException.atNode(n, String.format("input %d '%s' is %s (expected a scalar)",
          i, n.input(i), Tensor.shapeString(in[i])));
    }
  }

  private static void exactly(Node n, int i, long[] s, long[] expected, String why) {
    if (!Arrays.equals(s, expected)) {
      throw ModelException.atNode(n, String.format("input %d '%s' is %s (expected %s: %s)",
          i, n.input(i), Tensor.shapeString(s), Tensor.shapeString(expected), why));
    }
  }

  private static void rankAtLeast(Node n, int i, long[] s, int rank) {
    if (s.length < rank) {
      throw ModelException.atNode(n, String.format("input %d '%s' is %s (expected rank >= %d)",
          i, n.input(i), Tensor.shapeString(s), rank));
    }
  }

  /**
   * {@code axis} of a rank-{@code rank} tensor as a non-negative index; with {@code inclusive}
   * the rank itself is allowed too (Flatten's axis).
   */
  static int axis(Node n, long axis, int rank, boolean inclusive) {
    long max = inclusive ? rank : rank - 1;
    if (axis < -rank || axis > max) {
      throw ModelException.atNode(n, String.format(
          "axis %d of a rank-%d input (expected %d <= axis <= %d)", axis, rank, -rank, max));
    }
    return (int) (axis < 0 ? axis + rank : axis);
  }

  static long product(long[] s, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= s[i];
    }
    return p;
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    Arrays.setAll(r, i -> i);
    return r;
  }

  // --------------------------------------------------------------------------------- values

  private static Tensor small(Tensor t) {
    return t != null && t.dtype() == DType.INT64 && t.numel() <= MAX_VALUE_ELEMENTS ? t : null;
  }

  private static Tensor reshaped(Tensor v, long[] shape) {
    return small(v) == null ? null : v.reshape(shape);
  }

  private static Tensor arithmetic(Node n, Tensor a, Tensor b, long[] shape) {
    if (small(a) == null || small(b) == null
        || (a.numel() != 1 && b.numel() != 1 && !Arrays.equals(a.shape(), b.shape()))) {
      return null;
    }
    long[] x = a.toLongArray();
    long[] y = b.toLongArray();
    long[] r = new long[(int) product(shape, 0, shape.length)];
    for (int i = 0; i < r.length; i++) {
      long p = x[x.length == 1 ? 0 : i];
      long q = y[y.length == 1 ? 0 : i];
      r[i] = switch (n.opType()) {
        case "Add" -> p + q;
        case "Sub" -> p - q;
        case "Mul" -> p * q;
        default -> {
          if (q == 0) {
            throw ModelException.atNode(n, "divides the constant " + p + " by zero");
          }
          yield p / q;
        }
      };
    }
    return Tensor.ofInt64(r, shape);
  }

  private static Tensor concatValues(Node n, Tensor[] vals, long[][] in, long[] shape) {
    for (Tensor v : vals) {
      if (small(v) == null) {
        return null;
      }
    }
    int axis = axis(n, n.intAttr("axis"), shape.length, false);
    long outer = product(shape, 0, axis);
    long[] r = new long[(int) product(shape, 0, shape.length)];
    int pos = 0;
    for (long o = 0; o < outer; o++) {
      for (int i = 0; i < vals.length; i++) {
        long chunk = product(in[i], axis, in[i].length);
        System.arraycopy(vals[i].toLongArray(), (int) (o * chunk), r, pos, (int) chunk);
        pos += (int) chunk;
      }
    }
    return Tensor.ofInt64(r, shape);
  }

  private static Tensor gatherValues(Node n, Tensor data, Tensor indices, long[] x, int axis,
      long[] shape) {
    if (small(data) == null || indices == null || indices.numel() > MAX_VALUE_ELEMENTS) {
      return null;
    }
    long[] d = data.toLongArray();
    long[] idx = indices.dtype() == DType.INT64 ? indices.toLongArray()
        : Arrays.stream(indices.toIntArray()).asLongStream().toArray();
    long outer = product(x, 0, axis);
    long inner = product(x, axis + 1, x.length);
    long[] r = new long[(int) product(shape, 0, shape.length)];
    int pos = 0;
    for (long o = 0; o < outer; o++) {
      for (long i : idx) {
        long j = i < 0 ? i + x[axis] : i;
        if (j < 0 || j >= x[axis]) {
          throw ModelException.atNode(n, String.format(
              "index %d is out of range for axis %d of size %d (expected %d to %d)",
              i, axis, x[axis], -x[axis], x[axis] - 1));
        }
        System.arraycopy(d, (int) ((o * x[axis] + j) * inner), r, pos, (int) inner);
        pos += (int) inner;
      }
    }
    return Tensor.ofInt64(r, shape);
  }
}
