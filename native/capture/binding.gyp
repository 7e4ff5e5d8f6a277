{
  "targets": [
    {
      "target_name": "portent-capture",
      "type": "executable",
      "sources": ["portent-capture.c"],
      "libraries": ["-lpcap"],
      "conditions": [
        ["OS=='linux'", { "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"] }],
        ["OS=='mac'", { "xcode_settings": { "OTHER_CFLAGS": ["-std=gnu11", "-Wall", "-Wextra"] } }]
      ]
    }
  ]
}
