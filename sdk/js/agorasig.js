// The browser SDK: under construction.
