{
  "targets": [
    {
      "target_name": "slimtext_native",
      "sources": [
        "native/binding.c",
        "native/args.c",
        "native/threads.c",
        "native/gemm.c",
        "native/elementwise.c",
        "native/reduce.c",
        "native/rowwise.c",
        "native/embedding.c",
        "native/codes.c",
        "native/random.c",
        "native/optim.c",
        "native/infer.c"
      ],
      "include_dirs": [
        "/usr/include/x86_64-linux-gnu/openblas-pthread",
        "/usr/include/aarch64-linux-gnu/openblas-pthread",
        "/usr/include/openblas"
      ],
      "cflags_c": ["-std=gnu11", "-O3", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopenblas"],
      "conditions": [
        ["target_arch=='x64'", { "cflags_c": ["-march=x86-64-v2", "-mtune=generic"] }]
      ]
    }
  ]
}
