// The weight-stationary systolic array: ArrayDim x ArrayDim systole_pe.
//
// PE (k, n) sits in row k (input lane k, reduction index) and column n (output lane n).
//
// Data: an input row presented at cycle s (in_valid_i, in_data_i lane k = activation k) enters
// skewed: lane k is delayed by k cycles, so PE (k, n) multiplies it in cycle s + k + n with the
// weight register chosen by the row's bank bit (in_bank_i, which travels with the activation).
// Partial sums flow down the columns from 0 at the top; column n leaves the bottom row valid at
// s + D + n and is delayed by D - 1 - n more cycles, so all D lanes of the row leave together:
// out_data_o (lane n = sum over k of a[k] * W[k][n], int32 wrapping) is valid during
// s + 2D - 1 with out_valid_o and the row's tag. pre_valid_o / pre_tag_o show the same row's
// tag one cycle earlier (s + 2D - 2), to read what the result will be added to.
//
// Weights: a tile is D rows presented on w_data_i in D consecutive cycles f .. f + D - 1 (row k
// of the tile, lane n = W[k][n], at cycle f + k), with w_first_i high in cycle f and the target
// bank on w_bank_i. Column n of each tile row enters the top of the array delayed by n cycles and
// moves down one row per cycle; a write token starts at row 0 in cycle f, moves down two cycles
// per row and to the right one cycle per column, so W[k][n] is written into PE (k, n) at the edge
// ending cycle f + 2k + n (a tile row read from a buffer in cycle c, with data in c + 1 = f + k,
// is written at c + 1 + k + n). Several tiles may follow each other without a gap.
//
// clear_i drops every row and every weight write in flight (the weight registers keep their
// values; the unit above treats the tiles as invalid after a clear).
module systole_array #(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned TagWidth = 1
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      clear_i,
  // input rows
  input  logic                      in_valid_i,
  input  logic                      in_bank_i,
  input  logic [TagWidth-1:0]       in_tag_i,
  input  logic [8*ArrayDim-1:0]     in_data_i,
  // weight tiles
  input  logic                      w_first_i,
  input  logic                      w_bank_i,
  input  logic [8*ArrayDim-1:0]     w_data_i,
  // results
  output logic                      pre_valid_o,
  output logic [TagWidth-1:0]       pre_tag_o,
  output logic                      out_valid_o,
  output logic [TagWidth-1:0]       out_tag_o,
  output logic [32*ArrayDim-1:0]    out_data_o
);

  localparam int unsigned D = ArrayDim;
  localparam int unsigned TagDepth = 2 * D - 1;

  // Wires between the PEs. act/bank: [row][column], column D is what leaves the last column.
  // psum: [row][column], row 0 is the zero entering the top. wdat: [row][column] data arriving at
  // PE (row, column) from above. we/wb: [row][column] weight write enable and bank.
  logic [7:0]  act   [D][D+1];
  logic        bank  [D][D+1];
  logic [31:0] psum  [D+1][D];
  logic [7:0]  wdat  [D][D];
  logic        we    [D][D];
  logic        wb    [D][D];

  // ---------------------------------------------------------------------------------------------
  // Input skew: lane k delayed by k cycles.
  for (genvar k = 0; k < D; k++) begin : g_skew
    if (k == 0) begin : g_direct
      assign act[0][0]  = in_data_i[7:0];
      assign bank[0][0] = in_bank_i;
    end else begin : g_delay
      logic [7:0] d_q [k];
      logic       b_q [k];
      always_ff @(posedge clk_i) begin
        d_q[0] <= in_data_i[8*k +: 8];
        b_q[0] <= in_bank_i;
        for (int unsigned i = 1; i < k; i++) begin
          d_q[i] <= d_q[i-1];
          b_q[i] <= b_q[i-1];
        end
      end
      assign act[k][0]  = d_q[k-1];
      assign bank[k][0] = b_q[k-1];
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Weight wave: column n of the tile row enters the top delayed by n cycles.
  for (genvar n = 0; n < D; n++) begin : g_wtop
    if (n == 0) begin : g_direct
      assign wdat[0][0] = w_data_i[7:0];
    end else begin : g_delay
      logic [7:0] d_q [n];
      always_ff @(posedge clk_i) begin
        d_q[0] <= w_data_i[8*n +: 8];
        for (int unsigned i = 1; i < n; i++) begin
          d_q[i] <= d_q[i-1];
        end
      end
      assign wdat[0][n] = d_q[n-1];
    end
  end

  // Weight data moves down one row per cycle.
  for (genvar k = 1; k < D; k++) begin : g_wdown
    for (genvar n = 0; n < D; n++) begin : g_col
      logic [7:0] d_q;
      always_ff @(posedge clk_i) begin
        d_q <= wdat[k-1][n];
      end
      assign wdat[k][n] = d_q;
    end
  end

  // Write token: row 0 at cycle f, two cycles per row down the first column.
  assign we[0][0] = w_first_i;
  assign wb[0][0] = w_bank_i;
  for (genvar k = 1; k < D; k++) begin : g_token
    logic       t0_q, t1_q;
    logic       b0_q, b1_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        t0_q <= 1'b0;
        t1_q <= 1'b0;
      end else if (clear_i) begin
        t0_q <= 1'b0;
        t1_q <= 1'b0;
      end else begin
        t0_q <= we[k-1][0];
        t1_q <= t0_q;
      end
    end
    always_ff @(posedge clk_i) begin
      b0_q <= wb[k-1][0];
      b1_q <= b0_q;
    end
    assign we[k][0] = t1_q;
    assign wb[k][0] = b1_q;
  end

  // The token moves right one column per cycle.
  for (genvar k = 0; k < D; k++) begin : g_wright
    for (genvar n = 1; n < D; n++) begin : g_col
      logic we_q, wb_q;
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          we_q <= 1'b0;
        end else if (clear_i) begin
          we_q <= 1'b0;
        end else begin
          we_q <= we[k][n-1];
        end
      end
      always_ff @(posedge clk_i) begin
        wb_q <= wb[k][n-1];
      end
      assign we[k][n] = we_q;
      assign wb[k][n] = wb_q;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // The grid.
  for (genvar n = 0; n < D; n++) begin : g_top
    assign psum[0][n] = '0;
  end

  for (genvar k = 0; k < D; k++) begin : g_row
    for (genvar n = 0; n < D; n++) begin : g_col
      systole_pe u_pe (
        .clk_i   (clk_i),
        .a_i     (act[k][n]),
        .bank_i  (bank[k][n]),
        .a_o     (act[k][n+1]),
        .bank_o  (bank[k][n+1]),
        .psum_i  (psum[k][n]),
        .psum_o  (psum[k+1][n]),
        .w_we_i  (we[k][n]),
        .w_bank_i(wb[k][n]),
        .w_data_i(wdat[k][n])
      );
    end
  end

  // The activations leaving the last column go nowhere.
  logic unused_last_col;
  always_comb begin
    unused_last_col = 1'b0;
    for (int unsigned k = 0; k < D; k++) begin
      unused_last_col = unused_last_col ^ (^act[k][D]) ^ bank[k][D];
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Output de-skew: column n delayed by D - 1 - n cycles.
  for (genvar n = 0; n < D; n++) begin : g_deskew
    if (n == D - 1) begin : g_direct
      assign out_data_o[32*n +: 32] = psum[D][n];
    end else begin : g_delay
      localparam int unsigned Depth = D - 1 - n;
      logic [31:0] d_q [Depth];
      always_ff @(posedge clk_i) begin
        d_q[0] <= psum[D][n];
        for (int unsigned i = 1; i < Depth; i++) begin
          d_q[i] <= d_q[i-1];
        end
      end
      assign out_data_o[32*n +: 32] = d_q[Depth-1];
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Valid and tag travel beside the row: pre at s + 2D - 2, out at s + 2D - 1.
  logic [TagDepth-1:0] valid_q;
  logic [TagWidth-1:0] tag_q [TagDepth];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= '0;
    end else if (clear_i) begin
      valid_q <= '0;
    end else begin
      valid_q <= {valid_q[TagDepth-2:0], in_valid_i};
    end
  end

  always_ff @(posedge clk_i) begin
    tag_q[0] <= in_tag_i;
    for (int unsigned i = 1; i < TagDepth; i++) begin
      tag_q[i] <= tag_q[i-1];
    end
  end

  assign pre_valid_o = valid_q[TagDepth-2];
  assign pre_tag_o   = tag_q[TagDepth-2];
  assign out_valid_o = valid_q[TagDepth-1];
  assign out_tag_o   = tag_q[TagDepth-1];

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // A tile takes D cycles of w_data_i: the next one starts D or more cycles after the last
  // (or after a clear, which drops the one in flight).
  logic [$clog2(D+1)-1:0] since_first_q;  // cycles since the last w_first_i, at most D
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      since_first_q <= ($clog2(D+1))'(D);
    end else if (clear_i) begin
      since_first_q <= ($clog2(D+1))'(D);
    end else if (w_first_i) begin
      since_first_q <= ($clog2(D+1))'(1);
    end else if (32'(since_first_q) < D) begin
      since_first_q <= since_first_q + 1'b1;
    end
  end
  TileSpacing: assert property (@(posedge clk_i) disable iff (!chk_q)
      w_first_i && !clear_i |-> 32'(since_first_q) >= D)
    else $error("systole_array: w_first_i %0d cycles after the last tile began (D = %0d)",
                since_first_q, D);

  // A valid row never meets a write of the weight bank it reads: a row of bank b that starts in
  // cycle s meets, in PE row k, the write of a bank-b tile that starts in f when s = f + k, and
  // for 0 < s - f < D it would read old weights in some PE rows and new ones in others. The row
  // and the write token move right together, so column 0 shows every meeting: there the row is
  // valid_q[k-1] (in_valid_i delayed k cycles) with bank bank[k][0], the write we[k][0], wb[k][0].
  // (s = f, PE row 0, is the last row that may still use the old tile: it reads it everywhere.)
  always_ff @(posedge clk_i) begin : b_bank_hazard
    if (chk_q && !clear_i) begin
      for (int unsigned k = 1; k < D; k++) begin
        assert (!(valid_q[k-1] && we[k][0] && wb[k][0] == bank[k][0]))
          else $error("systole_array: %s %0d while a tile is written into it (PE row %0d)",
                      "a valid row reads weight bank", bank[k][0], k);
      end
    end
  end
`endif

endmodule
