package dev.systole.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Arithmetic;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GEMMs of many shapes on the emulator, int32 and requantized, compared element for element with
 * the plain Java product: awkward shapes first (1x1x1, dimensions one past a tile, K spanning
 * many chunks), then random ones; on the default array and on a small 8x8 build with small
 * buffers, where M must be split across several passes.
 */
class RandomGemmTest {
  private static final long A = 0x100_0000L;
  private static final long W = 0x400_0000L;
  private static final long P = 0x700_0000L;
  private static final long C = 0x800_0000L;

  @ParameterizedTest
  @ValueSource(strings = {"emulator", "emulator:ARRAY=8,ABUF_ROWS=256,ACC_ROWS=128,WBUF_ROWS=64"})
  void gemmsOfManyShapesMatchThePlainProduct(String name) {
    int[][] fixed = {{1, 1, 1}, {1, 300, 1}, {17, 17, 17}, {15, 1, 33}, {2, 31, 100},
        {33, 16, 16}, {64, 48, 400}, {300, 5, 7}, {1, 1, 1000}, {129, 3, 65}};
    Random r = new Random(name.hashCode());
    int checked = 0;
    try (Device device = Devices.open(name)) {
      for (int[] s : fixed) {
        check(device, r, s[0], s[1], s[2], r.nextBoolean());
        checked++;
      }
      for (int i = 0; i < 140; i++) {
        int m = 1 + r.nextInt(r.nextInt(4) == 0 ? 200 : 40);
        int n = 1 + r.nextInt(r.nextInt(4) == 0 ? 100 : 40);
        int k = 1 + r.nextInt(r.nextInt(4) == 0 ? 300 : 50);
        check(device, r, m, n, k, r.nextBoolean());
        checked++;
      }
    }
    assertEquals(150, checked);
  }

  private static void check(Device device, Random r, int m, int n, int k, boolean requant) {
    DeviceParams p = device.info().params();
    int d = p.lanes();
    byte[][] a = new byte[m][k];
    byte[][] w = new byte[k][n];
    for (byte[] row : a) {
      r.nextBytes(row);
    }
    for (byte[] row : w) {
      r.nextBytes(row);
    }
    GemmPrograms.Requant q = null;
    if (requant) {
      int[] bias = new int[n];
      int[] mult = new int[n];
      int[] shift = new int[n];
      for (int j = 0; j < n; j++) {
        bias[j] = r.nextInt(2001) - 1000;
        mult[j] = 1 + r.nextInt(Integer.MAX_VALUE);
        shift[j] = 30 + r.nextInt(12);
      }
      q = new GemmPrograms.Requant(bias, mult, shift, r.nextInt(256) - 128, r.nextBoolean());
    }
    GemmPrograms.Layout at = new GemmPrograms.Layout(A, W, P, C);
    List<Instruction> program = GemmPrograms.build(m, n, k, p, at, q);
    Dma.write(device, A, GemmPrograms.layoutA(a, k, d));
    Dma.write(device, W, GemmPrograms.layoutW(w, n, d));
    if (q != null) {
      Dma.write(device, P, GemmPrograms.layoutParams(q, n, d));
    }
    Dma.write(device, 0, Instruction.encode(program));
    device.write(Reg.CTRL, RegField.CTRL_CLEAR_COUNTERS.mask());
    device.run(0, program.size(), Duration.ofSeconds(60));
    int[][] want = GemmPrograms.reference(a, w, n);
    String shape = String.format("%dx%dx%d%s on %s", m, n, k, requant ? " requant" : "",
        device.name());
    byte[] got = Dma.read(device, C, m * n * (q == null ? 4 : 1));
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int expected = q == null ? want[i][j] : Arithmetic.requantize(want[i][j], q.bias()[j],
            q.mult()[j], q.shift()[j], q.zeroPoint(), q.relu());
        int actual = q == null ? littleEndian(got, (i * n + j) * 4) : got[i * n + j];
        if (expected != actual) {
          assertEquals(expected, actual, shape + ": C[" + i + "][" + j + "]");
        }
      }
    }
    long kc = GemmPrograms.chunks(k, d);
    long nc = GemmPrograms.chunks(n, d);
    assertEquals(m * kc * nc * d * d, device.counters().get(Counter.MACS), shape + ": MACS");
  }

  private static int littleEndian(byte[] b, int i) {
    return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | b[i + 3] << 24;
  }
}
