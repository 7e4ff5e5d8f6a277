/// <reference types="vite/client" />
// Vite's types for the stylesheets the renderer imports.
