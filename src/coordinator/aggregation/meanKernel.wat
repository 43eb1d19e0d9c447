;; The streaming mean's hot loops as WebAssembly SIMD (128-bit). Assembled by scripts/assembleKernel.ts into
;; meanKernelWasm.ts; test/coordinator/meanKernel.test.ts checks that the two agree.
;;
;; Every loop rounds exactly as its JavaScript twin in meanKernel.ts: WebAssembly never fuses a multiply
;; and an add, and f64x2 lanes are IEEE binary64 like JS numbers, so both give the same bits. Pointers are byte
;; offsets into the imported memory; counts are values. Each loop takes a multiple of its unroll (the caller
;; runs the remainder in JavaScript); loads and stores need no alignment.
(module
  (import "env" "memory" (memory 1))

  ;; 1 when the n float32 values at $p are all finite, else 0. x - x is 0 for every finite x and NaN for NaN
  ;; and +-Infinity, and a NaN stays in a sum: one comparison at the end decides. n % 16 == 0.
  (func (export "finite") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $x v128) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (f32x4.add (local.get $a) (f32x4.sub (local.tee $x (v128.load offset=0 (local.get $p))) (local.get $x))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.sub (local.tee $x (v128.load offset=16 (local.get $p))) (local.get $x))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.sub (local.tee $x (v128.load offset=32 (local.get $p))) (local.get $x))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.sub (local.tee $x (v128.load offset=48 (local.get $p))) (local.get $x))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $next)))
    (local.set $a (f32x4.add (f32x4.add (local.get $a) (local.get $b)) (f32x4.add (local.get $c) (local.get $d))))
    (i32x4.all_true (f32x4.eq (local.get $a) (local.get $a))))

  ;; sum[i], compensation[i] += w * x[i] by TwoSum (addWeightedCompensated's body) for the n float32 at $p:
  ;; b = w * x is exact (a float32 times an integer weight below 2^29 fits a float64); s = a + b; the rounding
  ;; error of that addition goes into c. Sums at $qs, compensations at $qc (float64). n % 4 == 0.
  (func (export "add") (param $qs i32) (param $qc i32) (param $n i32) (param $p i32) (param $weight f64)
    (local $end i32) (local $w v128)
    (local $a0 v128) (local $c0 v128) (local $b0 v128) (local $s0 v128) (local $bv0 v128)
    (local $a1 v128) (local $c1 v128) (local $b1 v128) (local $s1 v128) (local $bv1 v128)
    (local.set $w (f64x2.splat (local.get $weight)))
    (local.set $end (i32.add (local.get $qs) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $qs) (local.get $end)))
        (local.set $a0 (v128.load offset=0 (local.get $qs)))
        (local.set $a1 (v128.load offset=16 (local.get $qs)))
        (local.set $c0 (v128.load offset=0 (local.get $qc)))
        (local.set $c1 (v128.load offset=16 (local.get $qc)))
        ;; values 0-1 and 2-3 as two independent chains (the loop is latency-bound otherwise)
        (local.set $b0 (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p))) (local.get $w)))
        (local.set $s0 (f64x2.add (local.get $a0) (local.get $b0)))
        (local.set $bv0 (f64x2.sub (local.get $s0) (local.get $a0)))
        (local.set $c0 (f64x2.add (local.get $c0)
          (f64x2.add (f64x2.sub (local.get $a0) (f64x2.sub (local.get $s0) (local.get $bv0))) (f64x2.sub (local.get $b0) (local.get $bv0)))))
        (local.set $b1 (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $w)))
        (local.set $s1 (f64x2.add (local.get $a1) (local.get $b1)))
        (local.set $bv1 (f64x2.sub (local.get $s1) (local.get $a1)))
        (local.set $c1 (f64x2.add (local.get $c1)
          (f64x2.add (f64x2.sub (local.get $a1) (f64x2.sub (local.get $s1) (local.get $bv1))) (f64x2.sub (local.get $b1) (local.get $bv1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (v128.store offset=0 (local.get $qs) (local.get $s0))
        (v128.store offset=16 (local.get $qs) (local.get $s1))
        (v128.store offset=0 (local.get $qc) (local.get $c0))
        (v128.store offset=16 (local.get $qc) (local.get $c1))
        (local.set $qs (i32.add (local.get $qs) (i32.const 32)))
        (local.set $qc (i32.add (local.get $qc) (i32.const 32)))
        (br $next))))

  ;; Folds each compensation into its sum (zeroing it, so a second pass gives the same result) and writes
  ;; float32(total / weight) at $out: the mean. n % 2 == 0.
  (func (export "mean") (param $qs i32) (param $qc i32) (param $out i32) (param $n i32) (param $weight f64)
    (local $end i32) (local $w v128) (local $t v128)
    (local.set $w (f64x2.splat (local.get $weight)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $t (f64x2.add (v128.load (local.get $qs)) (v128.load (local.get $qc))))
        (v128.store (local.get $qs) (local.get $t))
        (v128.store (local.get $qc) (v128.const i64x2 0 0))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (f64x2.div (local.get $t) (local.get $w))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $qs (i32.add (local.get $qs) (i32.const 16)))
        (local.set $qc (i32.add (local.get $qc) (i32.const 16)))
        (br $next)))))
