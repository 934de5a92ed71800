package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Node;
import java.util.Map;

/**
 * How many multiply-accumulates a node does for the shapes of a plan: the measure of how much of
 * a model's arithmetic runs on the device. Counted for the ops that hold nearly all of a
 * network's MACs (convolutions, matrix products and recurrent cells); elementwise ops,
 * reductions and data movement count 0.
 */
public final class Macs {
  private Macs() {}

  /** The MACs of {@code n}, 0 if it is not such an op or a shape it needs is unknown. */
  static long of(Node n, Map<String, long[]> shapes) {
    long[] y = shapes.get(n.output(0));
    switch (n.opType()) {
      case "Conv", "ConvInteger", "QLinearConv" -> {
        long[] w = shapes.get(n.input(n.opType().equals("QLinearConv") ? 3 : 1));
        if (y == null || w == null || w.length < 3) {
          return 0;
        }
        return product(y) * product(w, 1);
      }
      case "ConvTranspose" -> {
        long[] x = shapes.get(n.input(0));
        long[] w = shapes.get(n.input(1));
        if (x == null || w == null || w.length < 3) {
          return 0;
        }
        return product(x) * product(w, 1);
      }
      case "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul" -> {
        long[] a = shapes.get(n.input(0));
        if (y == null || a == null || a.length == 0) {
          return 0;
        }
        boolean transA = n.opType().equals("Gemm") && n.attribute("transA")
            .map(t -> t.asInt() != 0).orElse(false);
        long k = transA && a.length == 2 ? a[0] : a[a.length - 1];
        return product(y) * k;
      }
      case "LSTM", "GRU", "RNN" -> {
        long[] x = shapes.get(n.input(0));
        long[] w = shapes.get(n.input(1));
        long[] r = shapes.get(n.input(2));
        if (x == null || w == null || r == null || x.length != 3 || w.length != 3) {
          return 0;
        }
        return x[0] * x[1] * (product(w) + product(r));
      }
      default -> {
        return 0;
      }
    }
  }

  /** Multiply-accumulates a CONV or GEMM layer means for {@code rows} rows; 0 for the others. */
  public static long useful(DeviceGraph.Node layer, int rows) {
    if (layer.kind() == DeviceGraph.Kind.GEMM) {
      return (long) rows * layer.inputs().get(0).shape().size() * layer.shape().size();
    }
    if (layer.kind() == DeviceGraph.Kind.CONV) {
      dev.systole.host.compile.ConvLayer c = (dev.systole.host.compile.ConvLayer) layer.layer();
      return (long) rows * layer.shape().size() * c.inChannels() * c.window().kernelH()
          * c.window().kernelW();
    }
    return 0;
  }

  private static long product(long[] s) {
    return product(s, 0);
  }

  private static long product(long[] s, int from) {
    long p = 1;
    for (int i = from; i < s.length; i++) {
      p *= Math.max(0, s[i]);
    }
    return p;
  }
}
