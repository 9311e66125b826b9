// A non-PIE test target for the symbolizer tests: prints the address of a known C++ function that
// only .symtab names (non-PIE executables export nothing), then waits until stdin closes.
#include <cstdio>

#include <unistd.h>

namespace kprof_target {

__attribute__((noinline)) int spinWork(int rounds) {
  volatile int sum = 0;
  for (int i = 0; i < rounds; ++i) {
    sum = sum + i;
  }
  return sum;
}

}  // namespace kprof_target

int main() {
  std::printf("%p\n", reinterpret_cast<void*>(&kprof_target::spinWork));
  std::fflush(stdout);
  char buffer[64];
  while (::read(STDIN_FILENO, buffer, sizeof(buffer)) > 0) {
  }
  return kprof_target::spinWork(3) == 3 ? 0 : 1;
}
