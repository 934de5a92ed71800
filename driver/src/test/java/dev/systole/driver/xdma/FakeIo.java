package dev.systole.driver.xdma;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * A kernel that answers what the test scripts. Every call is recorded; a call takes the next
 * scripted result if there is one, and otherwise succeeds in full (a transfer moves every byte
 * asked for, open returns descriptor 3, poll times out). Nothing touches memory, so transfers of
 * gigabytes at made-up addresses cost nothing.
 */
final class FakeIo implements NativeIo {
  record Call(String op, int fd, long address, long count, long offset, int flags) {}

  final List<Call> calls = new ArrayList<>();
  final Deque<Long> script = new ArrayDeque<>();
  Consumer<Call> onCall = call -> { };
  int closes;

  FakeIo then(long... results) {
    for (long r : results) {
      script.add(r);
    }
    return this;
  }

  private long answer(Call call, long otherwise) {
    calls.add(call);
    onCall.accept(call);
    return script.isEmpty() ? otherwise : script.poll();
  }

  List<Long> counts() {
    return calls.stream().map(Call::count).toList();
  }

  List<Long> offsets() {
    return calls.stream().map(Call::offset).toList();
  }

  @Override
  public int open(String path, int flags) {
    return (int) answer(new Call("open", -1, 0, 0, 0, flags), 3);
  }

  @Override
  public void close(int fd) {
    closes++;
  }

  @Override
  public long pread(int fd, long address, long count, long offset) {
    return answer(new Call("pread", fd, address, count, offset, 0), count);
  }

  @Override
  public long pwrite(int fd, long address, long count, long offset) {
    return answer(new Call("pwrite", fd, address, count, offset, 0), count);
  }

  @Override
  public int read(int fd, long address, int count) {
    return (int) answer(new Call("read", fd, address, count, 0, 0), count);
  }

  @Override
  public int poll(int fd, short events, int timeoutMillis) {
    return (int) answer(new Call("poll", fd, 0, timeoutMillis, 0, events), 0);
  }

  @Override
  public int flock(int fd, int operation) {
    return (int) answer(new Call("flock", fd, 0, 0, 0, operation), 0);
  }

  @Override
  public long mmap(long length, int prot, int flags, int fd, long offset) {
    return answer(new Call("mmap", fd, 0, length, offset, flags), -LibC.ENODEV);
  }

  @Override
  public int munmap(long address, long length) {
    return (int) answer(new Call("munmap", -1, address, length, 0, 0), 0);
  }

  @Override
  public String strerror(int errno) {
    return NativeIo.libc().strerror(errno);
  }
}
