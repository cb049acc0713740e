// placeholder: replaced by the wasm backend work
