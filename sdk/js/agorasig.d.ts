// The browser SDK: under construction.
export declare const VERSION: string;
