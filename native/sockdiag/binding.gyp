{
  "targets": [
    {
      "target_name": "sockdiag",
      "conditions": [
        [
          "OS=='linux'",
          {
            "sources": ["sockdiag.c"],
            "defines": ["NAPI_VERSION=8"],
            "cflags": ["-std=gnu11", "-Wall", "-Wextra"]
          },
          { "type": "none" }
        ]
      ]
    }
  ]
}
