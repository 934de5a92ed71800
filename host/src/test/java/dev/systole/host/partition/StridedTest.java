package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Views of a buffer against the tensors they stand for, computed element by element: after any
 * chain of Transposes and Reshapes, a view's order is where each element of the tensor is, and a
 * view in buffer order reshapes to anything.
 */
class StridedTest {
  /** The tensor {@code src} of shape {@code shape} transposed by {@code perm}, row-major. */
  private static int[] transpose(int[] src, long[] shape, long[] perm) {
    int rank = shape.length;
    long[] to = new long[rank];
    for (int i = 0; i < rank; i++) {
      to[i] = shape[(int) perm[i]];
    }
    int[] out = new int[src.length];
    long[] idx = new long[rank];
    for (int i = 0; i < src.length; i++) {
      long rem = i;
      for (int a = rank - 1; a >= 0; a--) {
        idx[a] = rem % to[a];
        rem /= to[a];
      }
      long at = 0;
      long[] old = new long[rank];
      for (int a = 0; a < rank; a++) {
        old[(int) perm[a]] = idx[a];
      }
      for (int a = 0; a < rank; a++) {
        at = at * shape[a] + old[a];
      }
      out[i] = src[(int) at];
    }
    return out;
  }

  private static long[] randomShape(Random r, int numelFactors) {
    List<Long> dims = new ArrayList<>();
    int[] primes = {2, 2, 3, 2, 5, 1};
    for (int i = 0; i < numelFactors; i++) {
      dims.add((long) primes[r.nextInt(primes.length)]);
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  private static long[] regroup(Random r, long[] shape) {
    List<Long> factors = new ArrayList<>();
    for (long d : shape) {
      for (long f = 2; d > 1; ) {
        if (d % f == 0) {
          factors.add(f);
          d /= f;
        } else {
          f++;
        }
      }
    }
    List<Long> out = new ArrayList<>();
    long cur = 1;
    for (long f : factors) {
      cur *= f;
      if (r.nextInt(3) == 0) {
        out.add(cur);
        cur = 1;
      }
      if (r.nextInt(6) == 0) {
        out.add(1L);
      }
    }
    out.add(cur);
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  private static long[] randomPerm(Random r, int rank) {
    List<Long> p = new ArrayList<>();
    for (long i = 0; i < rank; i++) {
      p.add(i);
    }
    java.util.Collections.shuffle(p, r);
    return p.stream().mapToLong(Long::longValue).toArray();
  }

  @Test
  void chainsOfTransposesAndReshapesSeeTheElementsTheTensorHas() {
    Random r = new Random(7);
    int refused = 0;
    for (int trial = 0; trial < 400; trial++) {
      long[] shape = randomShape(r, 2 + r.nextInt(3));
      Strided v = Strided.dense(shape);
      int[] tensor = new int[(int) v.numel()];
      for (int i = 0; i < tensor.length; i++) {
        tensor[i] = i;
      }
      assertTrue(v.inOrder());
      for (int step = 0; step < 6 && v != null; step++) {
        if (r.nextBoolean()) {
          long[] perm = randomPerm(r, v.rank());
          tensor = transpose(tensor, v.shape(), perm);
          v = v.transpose(perm);
        } else {
          long[] to = regroup(r, v.shape());
          Strided next = v.reshape(to);
          if (next == null) {
            refused++;
            // Refused only if the tensor's elements are not evenly strided in that shape:
            // then they are not in buffer order (a dense shape would always be a view).
            assertFalse(v.inOrder(), "an in-order view reshapes freely: " + v);
            break;
          }
          v = next;
        }
        assertArrayEquals(tensor, v.order(), "view " + v);
        boolean sorted = true;
        for (int i = 0; i < tensor.length; i++) {
          sorted &= tensor[i] == i;
        }
        assertEquals(sorted, v.inOrder(), "in order, for " + v);
      }
    }
    assertTrue(refused > 10, "some reshapes need a copy: " + refused);
  }

  @Test
  void attentionHeadsSplitAndMergeByAddressing() {
    // q of 16 tokens by 64 features, split into 4 heads of 16 and brought head-major.
    Strided q = Strided.dense(new long[] {16, 1, 64});
    Strided heads = q.reshape(new long[] {16, 4, 16});
    assertNotNull(heads);
    Strided byHead = heads.transpose(new long[] {1, 0, 2});
    assertArrayEquals(new long[] {16, 64, 1}, byHead.strides());
    assertTrue(byHead.rowsOfLast());
    Strided keysT = heads.transpose(new long[] {1, 2, 0});
    assertArrayEquals(new long[] {16, 1, 64}, keysT.strides());
    assertFalse(keysT.rowsOfLast());
    // Scores of each head are stored where its queries are: token-major, then back to tokens.
    Strided scores = byHead.withLast(16);
    Strided merged = scores.transpose(new long[] {1, 0, 2}).reshape(new long[] {16, 64});
    assertNotNull(merged);
    assertTrue(merged.inOrder());
    // With two sequences, heads do not merge with the batch axis without a copy.
    Strided two = Strided.dense(new long[] {2, 16, 64}).transpose(new long[] {1, 0, 2});
    assertNull(two.reshape(new long[] {16, 8, 16}));
  }
}
