// A buffer with several write and read ports that all work every cycle: one simple dual-port RAM
// per (write port, read port) pair, and a live-value table that remembers, for each row, which
// write port wrote it last. A read returns that port's copy. Two ports writing the same row in the
// same cycle is a program the contract calls undefined; the higher-numbered port wins.
module systole_mpram #(
  parameter int unsigned Rows     = 4096,
  parameter int unsigned Width    = 128,
  parameter int unsigned NumWrite = 2,
  parameter int unsigned NumRead  = 3,
  localparam int unsigned Aw      = $clog2(Rows),
  localparam int unsigned LvtW    = NumWrite > 1 ? $clog2(NumWrite) : 1
) (
  input  logic                             clk_i,
  input  logic                             rst_ni,
  // Port p's address and data are bits [p*Aw +: Aw] and [p*Width +: Width] of the vectors.
  input  logic [NumWrite-1:0]              we_i,
  input  logic [NumWrite*Aw-1:0]           waddr_i,
  input  logic [NumWrite*Width-1:0]        wdata_i,
  input  logic [NumRead-1:0]               re_i,
  input  logic [NumRead*Aw-1:0]            raddr_i,
  output logic [NumRead*Width-1:0]         rdata_o
);

  logic [Width-1:0] bank_rdata [NumWrite][NumRead];

  for (genvar w = 0; w < NumWrite; w++) begin : g_write
    for (genvar r = 0; r < NumRead; r++) begin : g_read
      systole_ram #(
        .Rows (Rows),
        .Width(Width)
      ) u_bank (
        .clk_i  (clk_i),
        .we_i   (we_i[w]),
        .waddr_i(waddr_i[w*Aw +: Aw]),
        .wdata_i(wdata_i[w*Width +: Width]),
        .re_i   (re_i[r]),
        .raddr_i(raddr_i[r*Aw +: Aw]),
        .rdata_o(bank_rdata[w][r])
      );
    end
  end

  if (NumWrite == 1) begin : g_single
    logic unused_rst;  // no live-value table to reset
    assign unused_rst = rst_ni;
    for (genvar r = 0; r < NumRead; r++) begin : g_out
      assign rdata_o[r*Width +: Width] = bank_rdata[0][r];
    end
  end else begin : g_lvt
    logic [LvtW-1:0] lvt_q [Rows];
    logic [LvtW-1:0] sel_q [NumRead];

    always_ff @(posedge clk_i) begin
      for (int unsigned w = 0; w < NumWrite; w++) begin
        if (we_i[w]) begin
          lvt_q[waddr_i[w*Aw +: Aw]] <= LvtW'(w);
        end
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        for (int unsigned r = 0; r < NumRead; r++) begin
          sel_q[r] <= '0;
        end
      end else begin
        for (int unsigned r = 0; r < NumRead; r++) begin
          if (re_i[r]) begin
            sel_q[r] <= lvt_q[raddr_i[r*Aw +: Aw]];
          end
        end
      end
    end

    for (genvar r = 0; r < NumRead; r++) begin : g_out
      assign rdata_o[r*Width +: Width] = bank_rdata[sel_q[r]][r];
    end

`ifndef SYNTHESIS
    // Invariant, checked by Verilator with --assert (yosys defines SYNTHESIS and skips it): a read
    // port selects the copy of a write port that exists. (Each bank's systole_ram checks that the
    // addresses are below Rows.)
    // Checks start at the second edge after reset (systole_chk).
    logic chk_q;
    systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

    always_ff @(posedge clk_i) begin
      if (chk_q) begin
        for (int unsigned r = 0; r < NumRead; r++) begin
          assert (32'(sel_q[r]) < NumWrite)
            else $error("systole_mpram: read port %0d selects write port %0d of %0d", r,
                        sel_q[r], NumWrite);
        end
      end
    end
`endif
  end

endmodule
