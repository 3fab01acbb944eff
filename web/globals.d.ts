// Globals the pages get from <script> tags (type-checking only; nothing is emitted).
declare const mpegts: typeof import('mpegts.js').default;
