// The browser SDK: under construction.
export const VERSION = "1.4.0";
