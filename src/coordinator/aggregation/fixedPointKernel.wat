;; The fixed-point sum's hot loops as WebAssembly SIMD (128-bit). Assembled by scripts/assembleKernel.ts into
;; fixedPointKernelWasm.ts; test/coordinator/fixedPointKernel.test.ts checks that they agree with the exact
;; JavaScript reference in fixedPointKernel.ts.
;;
;; Each weighted value p = w * 2^F * x (one float64 multiply, the same in every order) is rounded to the
;; nearest integer, ties to even, and added to an int64. Integer addition is associative, so the sum does not
;; depend on the order of the updates. float64 -> int64 has no SIMD instruction: the rounding uses the
;; 1.5 * 2^52 trick (adding it to |y| < 2^51 rounds y to an integer that then sits in the low mantissa bits)
;; twice, for the high and the low 26 bits of p (|p| < 2^62, checked before from "maxabs"). Pointers are byte
;; offsets into the imported memory; counts are values. Each loop takes a multiple of its unroll.
(module
  (import "env" "memory" (memory 1))

  ;; max |x| over the n float32 at $p (NaN when one is NaN: f32x4.max propagates it). n % 16 == 0.
  (func (export "maxabs") (param $p i32) (param $n i32) (result f32)
    (local $end i32) (local $a v128) (local $b v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (f32x4.max (local.get $a) (f32x4.max (f32x4.abs (v128.load offset=0 (local.get $p))) (f32x4.abs (v128.load offset=16 (local.get $p))))))
        (local.set $b (f32x4.max (local.get $b) (f32x4.max (f32x4.abs (v128.load offset=32 (local.get $p))) (f32x4.abs (v128.load offset=48 (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $next)))
    (local.set $a (f32x4.max (local.get $a) (local.get $b)))
    (f32.max (f32.max (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
             (f32.max (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))

  ;; The common case of "add" below: every |scale * x| < 2^51, so one magic add rounds it, and the caller has
  ;; bounded the sum (the sum of every added term's bound stays below 2^62), so no addition can wrap. n % 4 == 0.
  (func (export "addsmall") (param $qa i32) (param $n i32) (param $p i32) (param $scale f64)
    (local $end i32) (local $w v128) (local $m v128)
    (local.set $w (f64x2.splat (local.get $scale)))
    (local.set $m (v128.const i64x2 0x4338000000000000 0x4338000000000000))
    (local.set $end (i32.add (local.get $qa) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $qa) (local.get $end)))
        (v128.store offset=0 (local.get $qa) (i64x2.add (v128.load offset=0 (local.get $qa))
          (i64x2.sub (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p))) (local.get $w)) (local.get $m)) (local.get $m))))
        (v128.store offset=16 (local.get $qa) (i64x2.add (v128.load offset=16 (local.get $qa))
          (i64x2.sub (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $w)) (local.get $m)) (local.get $m))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $qa (i32.add (local.get $qa) (i32.const 32)))
        (br $next))))

  ;; acc[i] += round(scale * x[i]) for the n float32 at $p into the int64 at $qa. Returns 1 when an addition
  ;; wrapped past the int64 range (the sum is then wrong: the caller fails the round), else 0. n % 4 == 0.
  ;; round(v), |v| < 2^62, ties to even: hi = round(v / 2^26) by the magic add (|hi| < 2^36), lo = v - hi 2^26
  ;; (exact, |lo| <= 2^25) rounded the same way; round(v) = hi 2^26 + round(lo), and the parity of round(lo)
  ;; is that of round(v), so ties go the same way. Written out twice (two independent chains), not called.
  (func (export "add") (param $qa i32) (param $n i32) (param $p i32) (param $scale f64) (result i32)
    (local $end i32) (local $w v128) (local $wrap v128) (local $m v128)
    (local $v0 v128) (local $h0 v128) (local $q0 v128) (local $a0 v128) (local $s0 v128)
    (local $v1 v128) (local $h1 v128) (local $q1 v128) (local $a1 v128) (local $s1 v128)
    (local.set $w (f64x2.splat (local.get $scale)))
    (local.set $m (v128.const i64x2 0x4338000000000000 0x4338000000000000))
    (local.set $end (i32.add (local.get $qa) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $qa) (local.get $end)))
        (local.set $v0 (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p))) (local.get $w)))
        (local.set $v1 (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $w)))
        (local.set $h0 (f64x2.add (f64x2.mul (local.get $v0) (v128.const f64x2 0x1p-26 0x1p-26)) (local.get $m)))
        (local.set $h1 (f64x2.add (f64x2.mul (local.get $v1) (v128.const f64x2 0x1p-26 0x1p-26)) (local.get $m)))
        (local.set $q0 (i64x2.add
          (i64x2.shl (i64x2.sub (local.get $h0) (local.get $m)) (i32.const 26))
          (i64x2.sub
            (f64x2.add (f64x2.sub (local.get $v0) (f64x2.mul (f64x2.sub (local.get $h0) (local.get $m)) (v128.const f64x2 0x1p26 0x1p26))) (local.get $m))
            (local.get $m))))
        (local.set $q1 (i64x2.add
          (i64x2.shl (i64x2.sub (local.get $h1) (local.get $m)) (i32.const 26))
          (i64x2.sub
            (f64x2.add (f64x2.sub (local.get $v1) (f64x2.mul (f64x2.sub (local.get $h1) (local.get $m)) (v128.const f64x2 0x1p26 0x1p26))) (local.get $m))
            (local.get $m))))
        (local.set $a0 (v128.load offset=0 (local.get $qa)))
        (local.set $a1 (v128.load offset=16 (local.get $qa)))
        (local.set $s0 (i64x2.add (local.get $a0) (local.get $q0)))
        (local.set $s1 (i64x2.add (local.get $a1) (local.get $q1)))
        ;; signed overflow: both operands' signs differ from the result's
        (local.set $wrap (v128.or (local.get $wrap) (v128.or
          (v128.and (v128.xor (local.get $a0) (local.get $s0)) (v128.xor (local.get $q0) (local.get $s0)))
          (v128.and (v128.xor (local.get $a1) (local.get $s1)) (v128.xor (local.get $q1) (local.get $s1))))))
        (v128.store offset=0 (local.get $qa) (local.get $s0))
        (v128.store offset=16 (local.get $qa) (local.get $s1))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $qa (i32.add (local.get $qa) (i32.const 32)))
        (br $next)))
    (i32.ne (i64x2.bitmask (local.get $wrap)) (i32.const 0)))

  ;; Turns each int64 at $qa into the float64 acc * $unit in place (the weighted sum) and writes
  ;; float32(sum / $weight) at $out: the mean. Scalar: SIMD has no int64 -> float64 conversion. Any n.
  (func (export "mean") (param $qa i32) (param $out i32) (param $n i32) (param $unit f64) (param $weight f64)
    (local $end i32) (local $s f64)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $s (f64.mul (f64.convert_i64_s (i64.load (local.get $qa))) (local.get $unit)))
        (f64.store (local.get $qa) (local.get $s))
        (f32.store (local.get $out) (f32.demote_f64 (f64.div (local.get $s) (local.get $weight))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $qa (i32.add (local.get $qa) (i32.const 8)))
        (br $next)))))
