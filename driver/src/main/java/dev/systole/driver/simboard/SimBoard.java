package dev.systole.driver.simboard;

import dev.systole.driver.DeviceException;
import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import dev.systole.driver.contract.Reg;
import dev.systole.driver.contract.RegField;
import dev.systole.driver.emulator.CardMemory;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A sim board: the device nodes of XDMA board 0 served from a directory by an engine,
 * as {@code fpga/sim/PROTOCOL.md} specifies, so that the code that drives a real board runs its
 * real system calls against it unchanged.
 *
 * <p>The register window is a 4096-byte file that host and board both map shared. A file raises
 * no event when the host stores to it, so one serving thread polls the window against a shadow
 * copy of what the board last stored there, and every word that differs is a host write, applied
 * to the {@link SimEngine} with the contract's semantics. Every store the board makes is a
 * compare-and-swap from the shadow value: if it fails, the host wrote the word meanwhile, and that
 * write is applied first, so neither side's store is lost.
 *
 * <p>The price of polling is CPU and latency. After any activity the thread spins for a few scans,
 * then parks {@value #PARK_MICROS} µs between scans, within the protocol's 50 µs. A park costs a
 * timer and two context switches, tens of microseconds of CPU on a virtual machine, so a board
 * that polled at that rate forever would take a quarter of a core doing nothing. So once neither
 * the host nor the engine has done anything for {@value #DOZE_AFTER_MILLIS} ms, and only then,
 * the board relaxes the protocol's rate and parks {@value #DOZE_PARK_MICROS} µs: the first host
 * write after a pause waits up to that long, and everything after it is served at the fast rate.
 * Engine events (a run ending, the interrupt line rising) wake the thread at once in either mode.
 *
 * <p>The host stores a command's operands (PROG_ADDR, PROG_LEN) before the command itself, and the
 * board keeps that order: each scan reads CTRL first and the other words after it, and applies a
 * command after them, so a command never runs with operands older than itself.
 *
 * <p>Two orders make the window safe to read without locks. STATUS is stored after every other
 * register of a change, so a host that sees DONE reads final counters and error registers; and
 * CTRL is stored back as 0 only after the effects of the command are in the other registers, so a
 * host that waits for CTRL to read 0 after a command sees its effects (START's BUSY, RESET's
 * zeros). An interrupt is written to the events FIFO only after the change that raised the line
 * is in the window.
 *
 * <p>The board writes an interrupt word only while the FIFO holds fewer than
 * {@value #EVENTS_BACKLOG_BYTES} unread bytes: a host that has that many words waiting is awake
 * anyway, and the serving thread must never block on a full pipe.
 */
public final class SimBoard implements AutoCloseable {
  /** The register window node of board 0. */
  public static final String USER_NODE = "xdma0_user";
  /** The host-to-card DMA node: the card memory file. */
  public static final String H2C_NODE = "xdma0_h2c_0";
  /** The card-to-host DMA node: a hard link to the card memory file. */
  public static final String C2H_NODE = "xdma0_c2h_0";
  /** The FIFO of user interrupt 0. */
  public static final String EVENTS_NODE = "xdma0_events_0";
  public static final String PID_FILE = "simboard.pid";
  public static final String JSON_FILE = "simboard.json";
  /**
   * The file a serving board holds an exclusive lock on, for its whole life: two boards started
   * on one directory at the same moment would both find no live {@value #PID_FILE}, so the lock
   * decides which one serves. The operating system drops it when the process dies, however it
   * dies, so a killed board never leaves its directory locked.
   */
  public static final String LOCK_FILE = "simboard.lock";

  /** Where {@link Fault#DMA_SHORT} cuts the card memory file: reads past it come back short. */
  public static final long DMA_SHORT_CUT = 1L << 20;
  /** How often {@link Fault#SPURIOUS_IRQ} writes an event with no cause. */
  public static final int SPURIOUS_IRQ_PERIOD_MILLIS = 2;
  /**
   * The directory that shows the board's PCIe link as sysfs shows a PCI function's: files
   * {@code vendor}, {@code device}, {@code current_link_speed}, {@code current_link_width},
   * {@code max_link_speed} and {@code max_link_width}, so a host reads them with the code that
   * reads sysfs.
   */
  public static final String PCI_DIR = "pci";
  /** The link speed a sim board reports: PCIe Gen3, as an Alveo U55C trains with XDMA. */
  public static final String LINK_SPEED = "8.0 GT/s PCIe";
  /** The lanes a sim board's link has, and trains to unless {@link Fault#LINK_DEGRADED}. */
  public static final int LINK_WIDTH = 16;
  /** The lanes the link trains to under {@link Fault#LINK_DEGRADED}: a x16 card in a x8 slot. */
  public static final int DEGRADED_LINK_WIDTH = 8;
  /** The PCI device ID a sim board reports: the XDMA IP's default for Gen3 x16. */
  public static final int PCI_DEVICE_ID = 0x903f;
  /** The bit that {@link Fault#HBM_STUCK_BIT} holds at 0. */
  public static final int STUCK_BIT = 4;
  private static final int STUCK_CHANNEL = 5;
  private static final long STUCK_OFFSET = 0x3039;

  /** What {@link Fault#DMA_FAIL} points the h2c node at: writes fail with ENOSPC. */
  private static final Path FULL_DEVICE = Path.of("/dev/full");
  /** What {@link Fault#DMA_CORRUPT} points the h2c node at: writes succeed and go nowhere. */
  private static final Path NULL_DEVICE = Path.of("/dev/null");
  /** The card memory's name inside the directory that replaces the c2h node under DMA_FAIL. */
  private static final String KEPT_MEMORY = "card-memory";
  /**
   * INT_STATUS as stored in the window carries this bit, which the contract leaves undefined and
   * the host masks off, so that any host write, even of the value it read, changes the word.
   */
  static final int INT_STATUS_MARK = 1 << 31;

  private static final int WORDS = Contract.REGISTER_WINDOW_BYTES / 4;
  private static final Reg[] REGS = new Reg[WORDS];
  private static final int CTRL = Reg.CTRL.offset() / 4;
  private static final int STATUS = Reg.STATUS.offset() / 4;
  private static final int INT_STATUS = Reg.INT_STATUS.offset() / 4;
  private static final int BUSY = RegField.STATUS_BUSY.mask();
  private static final VarHandle WORD =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final byte[] EVENT_WORD = {1, 0, 0, 0};
  private static final int EVENTS_BACKLOG_BYTES = 1024;
  private static final int SPIN_SCANS = 64;
  private static final int PARK_MICROS = 20;
  private static final int DOZE_AFTER_MILLIS = 100;
  private static final int DOZE_PARK_MICROS = 1000;
  private static final long REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long APPLY_TIMEOUT_SECONDS = 10;
  private static final MethodHandle INVOKE_CLEANER = findInvokeCleaner();

  static {
    for (Reg r : Reg.values()) {
      REGS[r.offset() / 4] = r;
    }
  }

  private final Path dir;
  private final DeviceParams params;
  private final SimEngine engine;
  private final FileMemory memory;
  /** The card memory as the engine sees it: the file, with the stuck bit when injected. */
  private final StuckBitMemory engineMemory;
  private final MappedByteBuffer window;
  private final IntBuffer words;
  private final RandomAccessFile events;
  private final FileInputStream eventsBacklog;
  private final Thread server;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicBoolean lineRose = new AtomicBoolean();
  private final AtomicLong requested = new AtomicLong();
  private final Object appliedLock = new Object();
  private volatile Set<Fault> faults;
  private volatile boolean stopping;
  private volatile Throwable failure;
  private long applied;
  private boolean closed;
  /** The lock on {@value #LOCK_FILE}, held until {@link #close()}. */
  private FileChannel lock;

  // State of the serving thread (and of start(), before the thread runs).
  private final int[] shadow = new int[WORDS];
  /** The window as one scan read it, in a bulk copy: comparing it with the shadow is cheap. */
  private final int[] scan = new int[WORDS];
  private Set<Fault> current;
  private boolean linkDown;
  private boolean hung;
  private boolean engineBusy;
  private boolean dirty;

  private SimBoard(Path dir, DeviceParams params, FileMemory memory, MappedByteBuffer window,
      RandomAccessFile events, Set<Fault> faults, SimEngine.Factory engines) throws IOException {
    this.dir = dir;
    this.params = params;
    this.memory = memory;
    this.window = window;
    this.words = window.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    this.events = events;
    this.eventsBacklog = new FileInputStream(events.getFD());
    this.faults = faults;
    takeFaults(faults);
    this.engineMemory = new StuckBitMemory(memory, stuckBitAddress(params), 1 << STUCK_BIT);
    this.engine = engines.create(params, dir.resolve(H2C_NODE), engineMemory);
    if (faults.contains(Fault.HBM_STUCK_BIT) && !readsThroughCardMemory()) {
      engine.close();
      throw stuckBitNeedsEmulator();
    }
    this.server = new Thread(this::serve, "systole-simboard");
    server.setDaemon(true);
    engine.setInterruptListener(() -> {
      lineRose.set(true);
      LockSupport.unpark(server);
    });
  }

  /**
   * The card address of the byte whose bit {@link #STUCK_BIT} {@link Fault#HBM_STUCK_BIT} holds at
   * 0: an odd address a little into the region of HBM channel 5 (or of the last channel, for a
   * build with fewer), where a memory test that samples each channel region finds it.
   */
  public static long stuckBitAddress(DeviceParams params) {
    long region = params.hbmBytes() / params.hbmChannels();
    return Math.min(STUCK_CHANNEL, params.hbmChannels() - 1) * region
        + Math.min(STUCK_OFFSET, region - 1);
  }

  /**
   * Whether the engine reaches card memory through the board's {@link CardMemory}: the emulator
   * does; the RTL's memory model reads the file itself, past any fault the board puts in between.
   */
  private boolean readsThroughCardMemory() {
    return engine.name().equals("emulator");
  }

  private IllegalArgumentException stuckBitNeedsEmulator() {
    return new IllegalArgumentException("fault " + Fault.HBM_STUCK_BIT.label() + " needs the"
        + " emulator engine (the " + engine.name() + " engine reads the card memory file itself)");
  }

  private static void checkCombination(Set<Fault> faults) {
    if (faults.contains(Fault.DMA_FAIL) && faults.contains(Fault.DMA_CORRUPT)) {
      throw new IllegalArgumentException("faults " + Fault.DMA_FAIL.label() + " and "
          + Fault.DMA_CORRUPT.label() + " both replace the h2c node (expected one of them)");
    }
  }

  /**
   * Creates board 0's nodes in {@code dir} (created if missing; nodes left there by a board that
   * has stopped are replaced) and serves them until {@link #close()}. Returns once
   * {@value #PID_FILE} is written, with the register window holding the board's values.
   *
   * @throws IllegalArgumentException if a live process serves {@code dir} (its
   *     {@value #PID_FILE} names it)
   * @throws IOException if a node cannot be created
   */
  public static SimBoard start(Path dir, DeviceParams params, Set<Fault> faults)
      throws IOException {
    return start(dir, params, faults, SimEngine.emulator());
  }

  /**
   * As {@link #start(Path, DeviceParams, Set)}, with the engine {@code engines} makes behind the
   * nodes (the emulator, or the RTL under Verilator).
   */
  public static SimBoard start(Path dir, DeviceParams params, Set<Fault> faults,
      SimEngine.Factory engines) throws IOException {
    Files.createDirectories(dir);
    FileChannel lock = lock(dir);
    SimBoard board;
    try {
      refuseIfServed(dir);
      removeNodes(dir);
      board = create(dir, params, faults, engines);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    board.lock = lock;
    board.startServing();
    return board;
  }

  /**
   * Takes the lock of {@code dir}'s {@value #LOCK_FILE}.
   *
   * @throws IllegalArgumentException if another board holds it
   */
  private static FileChannel lock(Path dir) throws IOException {
    FileChannel ch = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock held;
    try {
      held = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      held = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (held == null) {
      ch.close();
      OptionalLong pid = servingProcess(dir);
      throw new IllegalArgumentException(dir + " is " + (pid.isPresent() ? "served by process "
          + pid.getAsLong() + " (its " + PID_FILE + ", and it holds " + LOCK_FILE + ")"
          : "being served by another sim board, starting now (it holds " + LOCK_FILE + ")")
          + "; stop that board first or use another directory");
    }
    return ch;
  }

  private static SimBoard create(Path dir, DeviceParams params, Set<Fault> faults,
      SimEngine.Factory engines) throws IOException {
    Set<Fault> initial = immutable(faults);
    checkCombination(initial);
    Path user = dir.resolve(USER_NODE);
    Path h2c = dir.resolve(H2C_NODE);
    Path fifo = dir.resolve(EVENTS_NODE);
    Files.createFile(user);
    MappedByteBuffer window;
    try (RandomAccessFile raf = new RandomAccessFile(user.toFile(), "rw")) {
      raf.setLength(Contract.REGISTER_WINDOW_BYTES);
      window = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0,
          Contract.REGISTER_WINDOW_BYTES);
    }
    FileMemory memory = null;
    RandomAccessFile events = null;
    SimBoard board;
    try {
      memory = FileMemory.create(h2c, params.hbmBytes());
      Files.createLink(dir.resolve(C2H_NODE), h2c);
      mkfifo(fifo);
      events = new RandomAccessFile(fifo.toFile(), "rw");
      board = new SimBoard(dir, params, memory, window, events, initial, engines);
    } catch (IOException | RuntimeException e) {
      if (events != null) {
        events.close();
      }
      if (memory != null) {
        memory.close();
      }
      unmap(window);
      throw e;
    }
    return board;
  }

  private void startServing() throws IOException {
    try {
      for (Fault f : faults) {
        breakNodes(f);
      }
      writeJson();
      writeLink();
      mirror();
      server.start();
      Path tmp = dir.resolve(PID_FILE + ".tmp");
      Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
      Files.move(tmp, dir.resolve(PID_FILE), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  public Path directory() {
    return dir;
  }

  public DeviceParams params() {
    return params;
  }

  /** The name of the engine behind the nodes: {@code emulator} or {@code rtl}. */
  public String engine() {
    return engine.name();
  }

  /** The faults injected now. */
  public Set<Fault> faults() {
    return faults;
  }

  /**
   * Injects {@code fault} into the running board and returns once the window and the nodes show
   * it; {@code simboard.json} is rewritten to name it. Host writes made before the call are
   * applied as before the fault. Injecting a fault already there does nothing.
   */
  public synchronized void inject(Fault fault) throws IOException {
    checkOpen();
    if (faults.contains(fault)) {
      return;
    }
    EnumSet<Fault> next = EnumSet.of(fault);
    next.addAll(faults);
    checkCombination(next);
    if (fault == Fault.HBM_STUCK_BIT && !readsThroughCardMemory()) {
      throw stuckBitNeedsEmulator();
    }
    breakNodes(fault);
    faults = Collections.unmodifiableSet(next);
    writeJson();
    writeLink();
    awaitApplied();
  }

  /**
   * Removes {@code fault} from the running board and returns once the window and the nodes no
   * longer show it. A program that {@link Fault#HANG} left hanging still hangs until a
   * SOFT_RESET; after {@link Fault#DMA_SHORT}, what lay past the cut reads as zeros.
   */
  public synchronized void clear(Fault fault) throws IOException {
    checkOpen();
    if (!faults.contains(fault)) {
      return;
    }
    repairNodes(fault);
    EnumSet<Fault> next = EnumSet.noneOf(Fault.class);
    next.addAll(faults);
    next.remove(fault);
    faults = Collections.unmodifiableSet(next);
    writeJson();
    writeLink();
    awaitApplied();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("sim board in " + dir + " is closed");
    }
  }

  /** Waits until the serving thread has made a full pass over the window after this call. */
  private void awaitApplied() {
    long ticket = requested.incrementAndGet();
    LockSupport.unpark(server);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(APPLY_TIMEOUT_SECONDS);
    boolean interrupted = false;
    synchronized (appliedLock) {
      while (applied < ticket) {
        long left = deadline - System.nanoTime();
        if (stopped.getCount() == 0 || left <= 0) {
          throw new IllegalStateException("sim board in " + dir + " is not serving", failure);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(appliedLock, left);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits until the board stops serving: it was closed, or its serving thread failed.
   *
   * @throws DeviceException with the failure as its cause if the serving thread failed
   */
  public void awaitStopped() throws InterruptedException {
    stopped.await();
    Throwable f = failure;
    if (f != null) {
      throw new DeviceException("sim board in " + dir + " stopped serving: " + f, f);
    }
  }

  // ---- serving ----

  private void serve() {
    try {
      int idle = 0;
      long lastRefresh = System.nanoTime();
      long lastSpurious = lastRefresh;
      long lastActive = lastRefresh;
      long spuriousPeriod = TimeUnit.MILLISECONDS.toNanos(SPURIOUS_IRQ_PERIOD_MILLIS);
      while (!stopping) {
        long ticket = requested.get();
        Set<Fault> next = faults;
        boolean rose = lineRose.getAndSet(false);
        boolean active = false;
        int ctrl = (int) WORD.getVolatile(window, CTRL * 4);
        words.get(0, scan);
        for (int i = Arrays.mismatch(scan, shadow); i >= 0; i = nextMismatch(i + 1)) {
          if (i != CTRL) {
            hostWrote(i, scan[i]);
            active = true;
          }
        }
        if (ctrl != shadow[CTRL]) {
          hostWrote(CTRL, ctrl);
          active = true;
        }
        takeFaults(next);
        long t = System.nanoTime();
        boolean ended = engineBusy && !RegField.STATUS_BUSY.isSet(
            engine.readRegister(Reg.STATUS.offset()));
        boolean acknowledge = ticket != applied;
        if (dirty || rose || ended || acknowledge || t - lastRefresh >= REFRESH_NANOS) {
          dirty = false;
          mirror();
          lastRefresh = t;
          active |= rose || ended;
        }
        if (acknowledge) {
          synchronized (appliedLock) {
            applied = ticket;
            appliedLock.notifyAll();
          }
        }
        if (rose) {
          signal();
        }
        if (current.contains(Fault.SPURIOUS_IRQ) && t - lastSpurious >= spuriousPeriod) {
          signal();
          lastSpurious = t;
        }
        if (active) {
          idle = 0;
        }
        if (active || engineBusy) {
          lastActive = t;
        }
        if (idle++ < SPIN_SCANS) {
          Thread.onSpinWait();
        } else {
          boolean doze = t - lastActive > TimeUnit.MILLISECONDS.toNanos(DOZE_AFTER_MILLIS);
          LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(doze ? DOZE_PARK_MICROS
              : PARK_MICROS));
        }
      }
    } catch (Throwable e) {
      failure = e;
    } finally {
      stopped.countDown();
    }
  }

  /** The first word from {@code from} on where the scan differs from the shadow, or -1. */
  private int nextMismatch(int from) {
    int d = Arrays.mismatch(scan, from, WORDS, shadow, from, WORDS);
    return d < 0 ? -1 : from + d;
  }

  /**
   * Makes {@code next} the faults the serving thread acts on. The set is read before the scan and
   * taken after it: a host write made before a fault was injected or cleared is then in that
   * scan, and is applied as it was made (reading the set after the scan would let a write that
   * landed in between be judged by the new faults).
   */
  private void takeFaults(Set<Fault> next) {
    current = next;
    linkDown = next.contains(Fault.LINK_DOWN);
  }

  /** The host stored {@code value} in word {@code i}: apply it, then store the board's value. */
  private void hostWrote(int i, int value) {
    shadow[i] = value;
    apply(i, value);
    if (i != CTRL) {
      settle(i, boardValue(i));
    }
  }

  /**
   * Gives a host write its effect on the engine. A CTRL write marks the window dirty: the mirror
   * that follows stores its effects, and CTRL last.
   */
  private void apply(int i, int value) {
    Reg reg = REGS[i];
    if (i == CTRL) {
      dirty = true;
    }
    if (linkDown || reg == null) {
      return;
    }
    switch (reg.access()) {
      case RW -> engine.writeRegister(reg.offset(), value);
      case W1C -> engine.writeRegister(reg.offset(), value & ~INT_STATUS_MARK);
      case WO -> control(value);
      case RO -> { }
    }
  }

  private void control(int value) {
    if (RegField.CTRL_SOFT_RESET.isSet(value)) {
      hung = false;
    } else if (RegField.CTRL_START.isSet(value) && (hung || current.contains(Fault.HANG)
        && !RegField.STATUS_BUSY.isSet(engine.readRegister(Reg.STATUS.offset())))) {
      hung = true;
      value &= ~RegField.CTRL_START.mask();
    }
    engine.writeRegister(Reg.CTRL.offset(), value);
  }

  /** The value word {@code i} should hold now. */
  private int boardValue(int i) {
    if (linkDown) {
      return -1;
    }
    Reg reg = REGS[i];
    if (reg == null) {
      return 0;
    }
    if (hung) {
      switch (reg) {
        case STATUS:
          return BUSY;
        case ERROR_CODE, ERROR_PC, PC, CYCLES_LO, CYCLES_HI:
          return 0;
        default:
          break;
      }
    }
    int v = engine.readRegister(reg.offset());
    return i == INT_STATUS ? v | INT_STATUS_MARK : v;
  }

  /** Stores the board's value in every word: INT_STATUS, STATUS and CTRL last, in that order. */
  private void mirror() {
    engineBusy = RegField.STATUS_BUSY.isSet(engine.readRegister(Reg.STATUS.offset()));
    int status = boardValue(STATUS);
    int intStatus = boardValue(INT_STATUS);
    for (int i = 0; i < WORDS; i++) {
      if (i != STATUS && i != INT_STATUS && i != CTRL) {
        settle(i, boardValue(i));
      }
    }
    settle(INT_STATUS, intStatus);
    settle(STATUS, status);
    settle(CTRL, boardValue(CTRL));
  }

  /** Stores {@code want} in word {@code i}, first applying any host write that lands there. */
  private void settle(int i, int want) {
    while (shadow[i] != want) {
      if (WORD.compareAndSet(window, i * 4, shadow[i], want)) {
        shadow[i] = want;
        return;
      }
      int seen = (int) WORD.getVolatile(window, i * 4);
      shadow[i] = seen;
      apply(i, seen);
      want = boardValue(i);
    }
  }

  /**
   * Writes one interrupt word, unless the link is down, interrupts are lost ({@link Fault#NO_IRQ})
   * or the host has a backlog to read.
   */
  private void signal() throws IOException {
    if (!linkDown && !current.contains(Fault.NO_IRQ)
        && eventsBacklog.available() < EVENTS_BACKLOG_BYTES) {
      events.write(EVENT_WORD);
    }
  }

  // ---- nodes ----

  private void breakNodes(Fault fault) throws IOException {
    switch (fault) {
      case DMA_FAIL -> {
        Path h2c = dir.resolve(H2C_NODE);
        Path c2h = dir.resolve(C2H_NODE);
        Path dirTmp = dir.resolve(C2H_NODE + ".tmp");
        Files.delete(h2c);
        Files.createSymbolicLink(h2c, FULL_DEVICE);
        Files.createDirectory(dirTmp);
        Files.move(c2h, dirTmp.resolve(KEPT_MEMORY));
        Files.move(dirTmp, c2h, StandardCopyOption.ATOMIC_MOVE);
      }
      case DMA_SHORT -> memory.setFileLength(Math.min(DMA_SHORT_CUT, params.hbmBytes()));
      case DMA_CORRUPT -> {
        Path h2c = dir.resolve(H2C_NODE);
        Files.delete(h2c);
        Files.createSymbolicLink(h2c, NULL_DEVICE);
      }
      case HBM_STUCK_BIT -> {
        long at = stuckBitAddress(params);
        byte[] b = new byte[1];
        memory.read(at, b, 0, 1);
        b[0] &= (byte) ~(1 << STUCK_BIT);
        memory.write(at, b, 0, 1);
        engineMemory.setStuck(true);
      }
      default -> { }
    }
  }

  private void repairNodes(Fault fault) throws IOException {
    switch (fault) {
      case DMA_FAIL -> {
        Path h2c = dir.resolve(H2C_NODE);
        Path c2h = dir.resolve(C2H_NODE);
        Path fileTmp = dir.resolve(C2H_NODE + ".tmp");
        Files.move(c2h.resolve(KEPT_MEMORY), fileTmp);
        Files.delete(c2h);
        Files.move(fileTmp, c2h, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(h2c);
        Files.createLink(h2c, c2h);
      }
      case DMA_SHORT -> memory.setFileLength(params.hbmBytes());
      case DMA_CORRUPT -> {
        Path h2c = dir.resolve(H2C_NODE);
        Files.delete(h2c);
        Files.createLink(h2c, dir.resolve(C2H_NODE));
      }
      case HBM_STUCK_BIT -> engineMemory.setStuck(false);
      default -> { }
    }
  }

  private void writeJson() throws IOException {
    StringJoiner paramJson = new StringJoiner(",\n", "{\n", "\n  }");
    for (Param p : Param.values()) {
      paramJson.add("    \"" + p + "\": " + params.get(p));
    }
    StringJoiner faultJson = new StringJoiner(", ", "[", "]");
    for (Fault f : faults) {
      faultJson.add("\"" + f.label() + "\"");
    }
    String json = "{\n"
        + "  \"board\": 0,\n"
        + "  \"engine\": \"" + engine.name() + "\",\n"
        + "  \"contract\": \"" + Contract.VERSION_MAJOR + "." + Contract.VERSION_MINOR + "\",\n"
        + "  \"build_id\": " + engine.buildId() + ",\n"
        + "  \"params\": " + paramJson + ",\n"
        + "  \"faults\": " + faultJson
        + (faults.contains(Fault.DMA_SHORT) ? ",\n  \"dma_short_cut\": "
            + Math.min(DMA_SHORT_CUT, params.hbmBytes()) : "")
        + (faults.contains(Fault.HBM_STUCK_BIT) ? ",\n  \"stuck_bit\": {\"address\": "
            + stuckBitAddress(params) + ", \"bit\": " + STUCK_BIT + ", \"value\": 0}" : "")
        + "\n}\n";
    writeAtomically(dir.resolve(JSON_FILE), json);
  }

  /**
   * Writes the link state into {@value #PCI_DIR}: Gen3 x16 trained at full speed and width, at x8
   * under {@link Fault#LINK_DEGRADED}, and, under {@link Fault#LINK_DOWN}, what sysfs shows for a
   * link that is down (an unknown speed and width 0).
   */
  private void writeLink() throws IOException {
    Path pci = Files.createDirectories(dir.resolve(PCI_DIR));
    boolean down = faults.contains(Fault.LINK_DOWN);
    int width = down ? 0 : faults.contains(Fault.LINK_DEGRADED) ? DEGRADED_LINK_WIDTH
        : LINK_WIDTH;
    writeAtomically(pci.resolve("vendor"), String.format("0x%04x%n", 0x10ee));
    writeAtomically(pci.resolve("device"), String.format("0x%04x%n", PCI_DEVICE_ID));
    writeAtomically(pci.resolve("max_link_speed"), LINK_SPEED + "\n");
    writeAtomically(pci.resolve("max_link_width"), LINK_WIDTH + "\n");
    writeAtomically(pci.resolve("current_link_speed"), (down ? "Unknown" : LINK_SPEED) + "\n");
    writeAtomically(pci.resolve("current_link_width"), width + "\n");
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void refuseIfServed(Path dir) throws IOException {
    OptionalLong pid = servingProcess(dir);
    if (pid.isPresent()) {
      throw new IllegalArgumentException(dir + " is served by process " + pid.getAsLong()
          + " (its " + PID_FILE + "); stop that board first or use another directory");
    }
  }

  /**
   * The process serving the sim board in {@code dir}: the one its {@value #PID_FILE} names, if
   * that process is alive; empty when the board has stopped or was killed, leaving its nodes.
   */
  public static OptionalLong servingProcess(Path dir) throws IOException {
    String text;
    try {
      text = Files.readString(dir.resolve(PID_FILE)).strip();
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(text);
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        ? OptionalLong.of(pid) : OptionalLong.empty();
  }

  /** Whether {@code dir} holds the nodes of a sim board, serving or not. */
  public static boolean isSimBoardDirectory(Path dir) {
    return Files.exists(dir.resolve(JSON_FILE));
  }

  /** Removes the nodes a stopped board left, DMA_FAIL's replacements included. */
  private static void removeNodes(Path dir) throws IOException {
    Path c2h = dir.resolve(C2H_NODE);
    if (Files.isDirectory(c2h, LinkOption.NOFOLLOW_LINKS)) {
      Files.deleteIfExists(c2h.resolve(KEPT_MEMORY));
    }
    for (String name : new String[] {USER_NODE, H2C_NODE, C2H_NODE, EVENTS_NODE, JSON_FILE,
        PID_FILE}) {
      Files.deleteIfExists(dir.resolve(name));
    }
  }

  private static void mkfifo(Path fifo) throws IOException {
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code;
    try {
      code = p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroy();
      throw new InterruptedIOException("interrupted while waiting for mkfifo " + fifo);
    }
    if (code != 0) {
      throw new IOException("mkfifo " + fifo + " exited with " + code + ": " + output.strip());
    }
  }

  private static Set<Fault> immutable(Collection<Fault> faults) {
    EnumSet<Fault> copy = EnumSet.noneOf(Fault.class);
    copy.addAll(faults);
    return Collections.unmodifiableSet(copy);
  }

  // ---- closing ----

  /**
   * Stops serving, closes the engine and the files, unmaps the window and removes
   * {@value #PID_FILE}; the other nodes stay, for inspection. Closing twice does nothing.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    stopping = true;
    LockSupport.unpark(server);
    boolean interrupted = false;
    while (server.isAlive()) {
      try {
        server.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    stopped.countDown();
    engine.close();
    IOException error = null;
    try {
      memory.close();
    } catch (IOException e) {
      error = e;
    }
    try {
      events.close();
    } catch (IOException e) {
      error = error == null ? e : error;
    }
    unmap(window);
    try {
      Files.deleteIfExists(dir.resolve(PID_FILE));
    } catch (IOException e) {
      error = error == null ? e : error;
    }
    try {
      if (lock != null) {
        lock.close();
      }
    } catch (IOException e) {
      error = error == null ? e : error;
    }
    if (error != null) {
      throw new UncheckedIOException("closing the sim board in " + dir, error);
    }
  }

  /**
   * Unmaps now rather than when the buffer is collected, with {@code Unsafe.invokeCleaner}, the
   * JDK's one way to do it before the foreign memory API; without it the mapping goes at GC.
   * Only after the serving thread has stopped: nothing may touch the buffer afterwards.
   */
  private static void unmap(MappedByteBuffer buffer) {
    if (INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("unmapping the register window", e);
    }
  }

  private static MethodHandle findInvokeCleaner() {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
      theUnsafe.setAccessible(true);
      return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
          MethodType.methodType(void.class, ByteBuffer.class)).bindTo(theUnsafe.get(null));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
